// Test support: temporary directories, processes, readiness via sd_notify.
#include "harness.hpp"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <grp.h>
#include <netinet/in.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace ipc::test {
namespace {

using Clock = std::chrono::steady_clock;

std::string slurp(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::vector<std::string> make_env(const std::map<std::string, std::string>& extra,
                                  const std::vector<std::string>& unset) {
  std::map<std::string, std::string> merged;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string entry(*e);
    const auto eq = entry.find('=');
    if (eq != std::string::npos) merged[entry.substr(0, eq)] = entry.substr(eq + 1);
  }
  // A daemon under test must not see the test's own systemd or routing variables.
  for (const char* name : {"NOTIFY_SOCKET", "LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES", "JOURNAL_STREAM", "IPC_NETWORK"})
    merged.erase(name);
  for (const auto& name : unset) merged.erase(name);
  for (const auto& [k, v] : extra) merged[k] = v;
  std::vector<std::string> out;
  for (const auto& [k, v] : merged) out.push_back(k + "=" + v);
  return out;
}

std::vector<char*> c_strings(std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (auto& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

std::optional<int> wait_pid(pid_t pid, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    int status = 0;
    const pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    if (r < 0 && errno != EINTR) return -1;
    if (Clock::now() >= deadline) return std::nullopt;
    ::poll(nullptr, 0, 5);  // no child-exit fd to wait on without pidfd; re-check shortly
  }
}

}  // namespace

std::filesystem::path bin_dir() { return IPC_TEST_BIN_DIR; }
std::filesystem::path program(const std::string& name) { return bin_dir() / name; }

TempDir::TempDir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "ipc-test-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

Process::Process(const std::filesystem::path& program, const std::vector<std::string>& args,
                 const std::filesystem::path& workdir, SpawnOptions options) {
  static int counter = 0;
  log_path_ = workdir / (program.filename().string() + "." + std::to_string(++counter) + ".log");
  // The readiness channel: a datagram socket the child reports READY=1 to.
  const auto notify_path = workdir / ("notify." + std::to_string(counter));
  UniqueFd notify(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, notify_path.c_str(), sizeof addr.sun_path - 1);
  if (::bind(notify.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
    throw std::runtime_error("cannot bind the notify socket " + notify_path.string());
  if (options.wait_ready) options.env["NOTIFY_SOCKET"] = notify_path.string();

  std::vector<std::string> argv_strings{program.string()};
  argv_strings.insert(argv_strings.end(), args.begin(), args.end());
  auto env_strings = make_env(options.env, options.unset_env);
  if (options.listen_fd >= 0) {
    env_strings.push_back("LISTEN_FDS=1");
    if (!options.listen_fd_name.empty()) env_strings.push_back("LISTEN_FDNAMES=" + options.listen_fd_name);
    env_strings.push_back("LISTEN_PID=");  // completed in the child, which knows its pid
    env_strings.back().reserve(64);         // so the child appends without allocating
  }
  auto argv = c_strings(argv_strings);
  auto envp = c_strings(env_strings);
  const int log_fd = ::open(log_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

  pid_ = ::fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    ::dup2(log_fd, STDOUT_FILENO);
    ::dup2(log_fd, STDERR_FILENO);
    if (options.listen_fd >= 0) {
      ::dup2(options.listen_fd, 3);  // dup2 clears FD_CLOEXEC on the copy
      // Only async-signal-safe work here: format our pid by hand.
      char pid_text[32];
      int n = 0;
      for (pid_t p = ::getpid(); p > 0; p /= 10) pid_text[n++] = static_cast<char>('0' + p % 10);
      std::string& last = env_strings.back();
      for (int i = n - 1; i >= 0; --i) last.push_back(pid_text[i]);
    }
    ::execve(argv[0], argv.data(), envp.data());
    ::_exit(127);
  }
  ::close(log_fd);

  if (!options.wait_ready) return;
  const auto deadline = Clock::now() + options.ready_timeout;
  char buffer[512];
  while (!ready_) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) break;
    pollfd p{notify.get(), POLLIN, 0};
    // Wake up now and then to notice a child that died before becoming ready.
    if (::poll(&p, 1, static_cast<int>(std::min<long>(left, 50))) > 0) {
      const ssize_t n = ::recv(notify.get(), buffer, sizeof buffer, 0);
      if (n > 0 && std::string_view(buffer, static_cast<std::size_t>(n)).find("READY=1") != std::string_view::npos)
        ready_ = true;
    } else if (!running()) {
      break;
    }
  }
  std::filesystem::remove(notify_path);
}

Process::Process(Process&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)),
      ready_(other.ready_),
      status_(other.status_),
      log_path_(std::move(other.log_path_)) {}

Process::~Process() {
  if (pid_ > 0 && !status_) {
    ::kill(pid_, SIGKILL);
    (void)wait_pid(pid_, 5s);
  }
}

void Process::signal(int number) const {
  if (pid_ > 0 && !status_) ::kill(pid_, number);
}

std::optional<int> Process::wait(std::chrono::milliseconds timeout) {
  if (!status_ && pid_ > 0) status_ = wait_pid(pid_, timeout);
  return status_;
}

std::optional<int> Process::stop(std::chrono::milliseconds timeout) {
  signal(SIGTERM);
  return wait(timeout);
}

bool Process::running() { return !wait(0ms).has_value(); }

std::string Process::log() const { return slurp(log_path_); }

RunResult run(const std::filesystem::path& program, const std::vector<std::string>& args,
              const std::map<std::string, std::string>& env, std::chrono::milliseconds timeout) {
  TempDir dir;
  const auto out_path = dir / "out";
  const auto err_path = dir / "err";
  std::vector<std::string> argv_strings{program.string()};
  argv_strings.insert(argv_strings.end(), args.begin(), args.end());
  auto env_strings = make_env(env, {});
  auto argv = c_strings(argv_strings);
  auto envp = c_strings(env_strings);
  const int out_fd = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  const int err_fd = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(out_fd, STDOUT_FILENO);
    ::dup2(err_fd, STDERR_FILENO);
    ::execve(argv[0], argv.data(), envp.data());
    ::_exit(127);
  }
  ::close(out_fd);
  ::close(err_fd);
  RunResult result;
  if (auto status = wait_pid(pid, timeout)) {
    result.status = *status;
  } else {
    ::kill(pid, SIGKILL);
    (void)wait_pid(pid, 5s);
  }
  result.out = slurp(out_path);
  result.err = slurp(err_path);
  return result;
}

bool wait_until(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (!condition()) {
    if (Clock::now() >= deadline) return false;
    ::poll(nullptr, 0, 5);
  }
  return true;
}

Process start_daemon(const std::string& name, const std::filesystem::path& rundir, std::vector<std::string> args,
                     const std::filesystem::path& workdir, SpawnOptions options) {
  args.insert(args.begin(), {"--rundir", rundir.string()});
  Process p(program(name), args, workdir, std::move(options));
  if (!p.ready()) {
    // Nothing the test does next means anything without the daemon: it ends here.
    ADD_FAILURE() << name << " never became ready: " << p.log();
    throw std::runtime_error(name + " never became ready");
  }
  return p;
}

ServingHost start_serving_host(const std::filesystem::path& rundir, const std::filesystem::path& workdir,
                               std::vector<std::string> ipcd_args, std::vector<std::string> tcpd_args) {
  auto ipcd = start_daemon("ipcd", rundir, std::move(ipcd_args), workdir);
  auto tcpd = start_daemon("tcpd", rundir, std::move(tcpd_args), workdir);
  auto pongd = start_daemon("pongd", rundir, {}, workdir);
  const int port = logged_port(tcpd), tls_port = logged_port(tcpd, "listening for TLS on");
  EXPECT_GT(port + tls_port, 0) << tcpd.log();
  return {std::move(ipcd), std::move(tcpd), std::move(pongd), port, tls_port};
}

CallingHost start_calling_host(const std::filesystem::path& rundir, const std::filesystem::path& workdir,
                               std::vector<std::string> tcpd_args) {
  auto ipcd = start_daemon("ipcd", rundir, {}, workdir);
  auto tcpd = start_daemon("tcpd", rundir, std::move(tcpd_args), workdir);
  return {std::move(ipcd), std::move(tcpd)};
}

bool closed_within(int fd, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
    char buffer[4096];
    if (::read(fd, buffer, sizeof buffer) <= 0) return true;
  }
}

std::size_t send_until_pushed_back(int fd, const std::string& frame, std::size_t max_bytes,
                                   std::chrono::milliseconds timeout) {
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
  std::size_t sent = 0;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (int stuck = 0; stuck < 100 && sent < max_bytes && std::chrono::steady_clock::now() < deadline;) {
    const ssize_t n = ::send(fd, frame.data() + sent % frame.size(), frame.size() - sent % frame.size(), MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<std::size_t>(n);
      stuck = 0;
    } else {
      ++stuck;
      pollfd p{fd, POLLOUT, 0};
      ::poll(&p, 1, 20);  // writable again soon, or the chain is full
    }
  }
  return sent;
}

std::string test_certificate(const std::string& name) {
  static const TempDir* const certs = [] {
    static TempDir dir;
    const auto r = run(std::filesystem::path(IPC_TESTS_DIR) / "tls_certs.sh", {dir.path().string()});
    if (r.status != 0) throw std::runtime_error("tls_certs.sh failed: " + r.err);
    return &dir;
  }();
  return (certs->path() / name).string();
}

long rss_kib(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return -1;
}

nlohmann::json ipc_paths(const std::filesystem::path& rundir, const std::string& direction) {
  const auto status = run(program("ipcctl"), {"--rundir", rundir.string(), "status"});
  EXPECT_EQ(status.status, 0) << status.err;
  if (status.status != 0) return nlohmann::json::object();
  return nlohmann::json::parse(status.out)["counters"]["paths"].value(direction, nlohmann::json::object());
}

long fd_count(pid_t pid) {
  std::error_code ec;
  std::filesystem::directory_iterator it("/proc/" + std::to_string(pid) + "/fd", ec);
  if (ec) return -1;
  long count = 0;
  for (; it != std::filesystem::directory_iterator(); it.increment(ec)) {
    if (ec) return -1;
    ++count;
  }
  return count;
}

long epoll_watch_count(pid_t pid) {
  const std::filesystem::path proc = "/proc/" + std::to_string(pid);
  std::error_code ec;
  long count = 0;
  bool any = false;
  for (std::filesystem::directory_iterator it(proc / "fd", ec); !ec && it != std::filesystem::directory_iterator();
       it.increment(ec)) {
    if (std::filesystem::read_symlink(it->path(), ec).string() != "anon_inode:[eventpoll]" || ec) {
      ec.clear();
      continue;
    }
    any = true;
    std::ifstream info(proc / "fdinfo" / it->path().filename());
    for (std::string line; std::getline(info, line);) {
      if (line.rfind("tfd:", 0) == 0) ++count;
    }
  }
  return any ? count : -1;
}

int logged_port(const Process& daemon, const std::string& what) {
  std::smatch match;
  const std::string log = daemon.log();
  if (!std::regex_search(log, match, std::regex(what + " 127\\.0\\.0\\.1:([0-9]+)"))) return 0;
  return std::stoi(match[1]);
}

UniqueFd tcp_connect(int port) {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) throw std::runtime_error("connect");
  return fd;
}

UniqueFd silent_listener(int backlog, int& port) {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd.get(), backlog) != 0)
    throw std::runtime_error("listen");
  socklen_t len = sizeof addr;
  ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&addr), &len);
  port = ntohs(addr.sin_port);
  return fd;
}

UniqueFd connect_raw(const std::filesystem::path& path) {
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
    throw std::runtime_error("connect " + path.string() + ": " + std::strerror(errno));
  return fd;
}

void write_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw std::runtime_error(std::string("write: ") + std::strerror(errno));
    }
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
}

std::string read_until(int fd, const std::function<bool(const std::string&)>& done,
                       std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  std::string out;
  char buffer[65536];
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) break;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left)) <= 0) break;
    const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
    if (n <= 0) break;
    out.append(buffer, static_cast<std::size_t>(n));
    if (done(out)) break;
  }
  return out;
}

std::string read_until_eof(int fd, std::chrono::milliseconds timeout) {
  return read_until(fd, [](const std::string&) { return false; }, timeout);
}

std::vector<UniqueFd> connect_as(uid_t uid, const std::filesystem::path& path, int count) {
  int pair[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) throw std::runtime_error("socketpair failed");
  const pid_t child = ::fork();
  if (child == 0) {
    ::close(pair[0]);
    if (::setgroups(0, nullptr) != 0 || ::setgid(uid) != 0 || ::setuid(uid) != 0) ::_exit(1);
    for (int i = 0; i < count; ++i) {
      const UniqueFd fd = connect_raw(path);
      if (!fd || send_with_fd(pair[1], "c", fd.get()) != 1) ::_exit(1);
    }
    ::_exit(0);
  }
  ::close(pair[1]);
  const UniqueFd channel(pair[0]);
  std::vector<UniqueFd> out;
  for (int i = 0; i < count; ++i) {
    std::vector<UniqueFd> fds;
    char byte;
    if (recv_with_fds(channel.get(), std::span<char>(&byte, 1), fds) != 1 || fds.size() != 1) break;
    out.push_back(std::move(fds[0]));
  }
  int status = 0;
  ::waitpid(child, &status, 0);
  return out;
}

RoundTripLoad::RoundTripLoad(std::vector<Client> clients) : clients_(std::move(clients)) {
  for (std::size_t i = 0; i < clients_.size(); ++i) {
    threads_.emplace_back([this, i] {
      Client& c = clients_[i];
      // Bounded: a client that is never stopped ends after this many.
      for (int n = 0; n < 1'000'000; ++n) {
        const auto sent = Message::data("client " + std::to_string(i) + " #" + std::to_string(n));
        try {
          c.send(sent);
        } catch (const std::exception&) {
          ++refused_;
          return;
        }
        try {
          if (c.receive() != sent) {
            ++lost_;
            return;
          }
        } catch (const std::exception&) {
          ++lost_;  // sent, and the end came instead of the answer
          return;
        }
        ++answered_;
      }
    });
  }
}

void RoundTripLoad::join() {
  for (auto& thread : threads_)
    if (thread.joinable()) thread.join();
}

RoundTripLoad::~RoundTripLoad() { join(); }

}  // namespace ipc::test
