// The logging helper (DESIGN §12).
#include "ipc/log.hpp"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <ctime>

#include "ipc/text.hpp"

namespace ipc {
namespace {

std::atomic<LogLevel> current_level{LogLevel::info};
std::string program_name = "ipc";

bool under_journal() {
  static const bool journal = std::getenv("JOURNAL_STREAM") != nullptr;
  return journal;
}

}  // namespace

std::optional<LogLevel> parse_log_level(std::string_view text) noexcept {
  if (text == "error") return LogLevel::error;
  if (text == "warn" || text == "warning") return LogLevel::warn;
  if (text == "info") return LogLevel::info;
  if (text == "debug") return LogLevel::debug;
  return std::nullopt;
}

std::string_view to_string(LogLevel level) noexcept {
  switch (level) {
    case LogLevel::error: return "error";
    case LogLevel::warn: return "warn";
    case LogLevel::info: return "info";
    case LogLevel::debug: return "debug";
  }
  return "info";
}

void set_log_level(LogLevel level) noexcept { current_level = level; }
LogLevel log_level() noexcept { return current_level; }
void set_log_program(std::string name) { program_name = std::move(name); }

void log_line(LogLevel level, std::string_view text) {
  std::string line;
  if (under_journal()) {
    // sd-daemon(3) priorities: 3 err, 4 warning, 6 info, 7 debug.
    static constexpr const char* prefix[] = {"<3>", "<4>", "<6>", "<7>"};
    line = prefix[static_cast<int>(level)];
  } else {
    const auto now = std::chrono::system_clock::now();
    const std::time_t seconds = std::chrono::system_clock::to_time_t(now);
    const auto millis =
        std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
    std::tm tm{};
    ::gmtime_r(&seconds, &tm);
    char stamp[40];
    const auto n = std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
    std::snprintf(stamp + n, sizeof stamp - n, ".%03dZ ", static_cast<int>(millis));
    line = stamp;
  }
  line += program_name;
  line += '[';
  line += std::to_string(::getpid());
  line += "] ";
  line += to_string(level);
  line += ": ";
  // One event, one line, and no byte a terminal or a log reader would act on: a peer's text
  // (an ERROR from a remote host, a name it sent) can neither forge lines nor send escapes.
  std::string flat(text);
  for (char& c : flat) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  line += printable(flat);
  line += '\n';
  std::size_t done = 0;
  while (done < line.size()) {
    const ssize_t n = ::write(STDERR_FILENO, line.data() + done, line.size() - done);
    if (n <= 0) break;
    done += static_cast<std::size_t>(n);
  }
}

}  // namespace ipc
