// Logging for every daemon (DESIGN §12): one line per event on stderr, with a level.
// Under systemd (JOURNAL_STREAM set) each line starts with the sd-daemon priority prefix
// ("<3>" error ... "<7>" debug) and carries no timestamp, since the journal adds one.
#pragma once

#include <optional>
#include <sstream>
#include <string>
#include <string_view>

namespace ipc {

enum class LogLevel { error = 0, warn = 1, info = 2, debug = 3 };

[[nodiscard]] std::optional<LogLevel> parse_log_level(std::string_view text) noexcept;
[[nodiscard]] std::string_view to_string(LogLevel level) noexcept;

void set_log_level(LogLevel level) noexcept;
[[nodiscard]] LogLevel log_level() noexcept;
// The name shown on each line (set by CommandLine from argv[0]).
void set_log_program(std::string name);
[[nodiscard]] inline bool log_enabled(LogLevel level) noexcept { return level <= log_level(); }

// Writes one line with a single write(2), so lines from several processes never interleave.
void log_line(LogLevel level, std::string_view text);

template <class... Args>
void log(LogLevel level, const Args&... args) {
  if (!log_enabled(level)) return;
  std::ostringstream out;
  (out << ... << args);
  log_line(level, out.str());
}

template <class... Args> void log_error(const Args&... args) { log(LogLevel::error, args...); }
template <class... Args> void log_warn(const Args&... args) { log(LogLevel::warn, args...); }
template <class... Args> void log_info(const Args&... args) { log(LogLevel::info, args...); }
template <class... Args> void log_debug(const Args&... args) { log(LogLevel::debug, args...); }

}  // namespace ipc
