// Test support for integration tests: temporary run directories and the real binaries started
// in them, ready when they say so (sd_notify READY=1 on a NOTIFY_SOCKET the test owns) and the
// socket answers. Nothing here sleeps to synchronise: every wait is on an event with a deadline.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <atomic>
#include <thread>

#include <nlohmann/json.hpp>

#include <ipc/client.hpp>
#include <ipc/fd.hpp>

namespace ipc::test {

using namespace std::chrono_literals;

// BUILD/bin, where the programs under test are.
[[nodiscard]] std::filesystem::path bin_dir();
[[nodiscard]] std::filesystem::path program(const std::string& name);

// A directory under /tmp, removed with everything in it at the end.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  [[nodiscard]] const std::filesystem::path& path() const noexcept { return path_; }
  [[nodiscard]] std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

struct SpawnOptions {
  std::map<std::string, std::string> env;  // added to (or replacing in) the test's environment
  std::vector<std::string> unset_env;      // removed from it
  int listen_fd = -1;                      // passed as fd 3 with LISTEN_PID/LISTEN_FDS (socket activation)
  std::string listen_fd_name;              // LISTEN_FDNAMES
  bool wait_ready = true;                  // wait for READY=1 on NOTIFY_SOCKET
  std::chrono::milliseconds ready_timeout = 20s;
};

// A running program. Its stderr goes to a file (read with log()). Killed at destruction if
// still running.
class Process {
 public:
  Process(const std::filesystem::path& program, const std::vector<std::string>& args,
          const std::filesystem::path& workdir, SpawnOptions options = {});
  ~Process();
  Process(Process&& other) noexcept;
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  [[nodiscard]] pid_t pid() const noexcept { return pid_; }
  [[nodiscard]] bool ready() const noexcept { return ready_; }
  // Sends a signal to this process (by its pid).
  void signal(int number) const;
  // Waits for it to exit; nullopt on timeout. The exit status, or 128+signal.
  std::optional<int> wait(std::chrono::milliseconds timeout = 20s);
  // SIGTERM, then wait.
  std::optional<int> stop(std::chrono::milliseconds timeout = 20s);
  [[nodiscard]] bool running();
  // What it wrote to stderr (and stdout) so far.
  [[nodiscard]] std::string log() const;

 private:
  pid_t pid_ = -1;
  bool ready_ = false;
  std::optional<int> status_;
  std::filesystem::path log_path_;
};

// Starts the program NAME (from bin_dir()) with `--rundir RUNDIR` before ARGS, in WORKDIR, and
// expects it ready: otherwise the test fails with its log and ends there (an exception).
[[nodiscard]] Process start_daemon(const std::string& name, const std::filesystem::path& rundir,
                                   std::vector<std::string> args, const std::filesystem::path& workdir,
                                   SpawnOptions options = {});

// Two hosts on one machine, each a run directory: the serving one runs ipcd, tcpd (its
// listeners on free loopback ports, logged and read back) and pongd; the calling one ipcd and
// an outbound tcpd. `ipcd_args` and `tcpd_args` are given whole (the listeners included).
struct ServingHost {
  Process ipcd, tcpd, pongd;
  int port = 0;      // tcpd's plain listener ("listening on"), 0 when it has none
  int tls_port = 0;  // its TLS listener ("listening for TLS on"), 0 when it has none
};
[[nodiscard]] ServingHost start_serving_host(const std::filesystem::path& rundir, const std::filesystem::path& workdir,
                                             std::vector<std::string> ipcd_args, std::vector<std::string> tcpd_args);
struct CallingHost {
  Process ipcd, tcpd;
};
[[nodiscard]] CallingHost start_calling_host(const std::filesystem::path& rundir, const std::filesystem::path& workdir,
                                             std::vector<std::string> tcpd_args);

// Runs a program to completion (with a deadline) and returns its exit status and output.
struct RunResult {
  int status = -1;  // exit status, 128+signal, or -1 when it timed out (it is then killed)
  std::string out;  // stdout
  std::string err;  // stderr
};
[[nodiscard]] RunResult run(const std::filesystem::path& program, const std::vector<std::string>& args,
                            const std::map<std::string, std::string>& env = {},
                            std::chrono::milliseconds timeout = 30s);

// Re-checks `condition` (cheap, no side effects) every few milliseconds until it holds or the
// deadline passes; for states no event announces (a file gone, a process's memory).
bool wait_until(const std::function<bool()>& condition, std::chrono::milliseconds timeout = 10s);

// The port a daemon logged as "WHAT 127.0.0.1:PORT" ("listening on 127.0.0.1:40123"); 0 when
// it did not.
[[nodiscard]] int logged_port(const Process& daemon, const std::string& what = "listening on");
// A TCP connection to 127.0.0.1:PORT. Throws on failure.
[[nodiscard]] UniqueFd tcp_connect(int port);
// A listener on 127.0.0.1, any free port (set in `port`), that completes TCP connections in the
// kernel's backlog and never says a word: a remote that does not answer. Throws on failure.
[[nodiscard]] UniqueFd silent_listener(int backlog, int& port);

// ipcd's count of the connections that went each way (`ipcctl status`'s counters.paths, "out"
// or "in"): {SCHEME: {"handed_over": N, "relayed": N}}; empty when ipcctl failed (a test failure).
[[nodiscard]] nlohmann::json ipc_paths(const std::filesystem::path& rundir, const std::string& direction);

// A process's resident memory (VmRSS), in KiB; -1 when it cannot be read.
[[nodiscard]] long rss_kib(pid_t pid);
// How many file descriptors a process has open (/proc/PID/fd); -1 when it cannot be read.
[[nodiscard]] long fd_count(pid_t pid);
// How many descriptions the process's epoll sets watch (the "tfd:" lines of its eventpoll
// descriptors' /proc/PID/fdinfo): a connection handed to another process must leave them, which
// closing the descriptor alone does not do. -1 when it cannot be read.
[[nodiscard]] long epoll_watch_count(pid_t pid);

// Whether the peer closed `fd` (EOF or reset) within `timeout`; what it sent first is read and
// dropped.
[[nodiscard]] bool closed_within(int fd, std::chrono::milliseconds timeout);
// Sends `frame` over and over on `fd` (made non-blocking) without reading, until the other side
// stops taking bytes (pushed back), `max_bytes` went out or `timeout` passed. Returns the bytes sent.
std::size_t send_until_pushed_back(int fd, const std::string& frame, std::size_t max_bytes,
                                   std::chrono::milliseconds timeout);
// The certificates of tests/tls_certs.sh, made once per test program in a directory removed at
// its exit; `name` is a file in it ("ca.pem", "server.key"...).
[[nodiscard]] std::string test_certificate(const std::string& name);

// `count` connections to `path` made by a child process running as `uid` (and gid `uid`, no
// supplementary groups), so that SO_PEERCRED says `uid`; handed back over a socket pair.
[[nodiscard]] std::vector<UniqueFd> connect_as(uid_t uid, const std::filesystem::path& path, int count);

// Raw Unix stream connection to a path, for sending malformed bytes. Throws on failure.
[[nodiscard]] UniqueFd connect_raw(const std::filesystem::path& path);
void write_all(int fd, std::string_view bytes);
// Reads until `done` holds for what came so far, EOF or the deadline; returns what came.
[[nodiscard]] std::string read_until(int fd, const std::function<bool(const std::string&)>& done,
                                     std::chrono::milliseconds timeout = 10s);
// Reads until EOF or the deadline (then stops reading), returns what came.
[[nodiscard]] std::string read_until_eof(int fd, std::chrono::milliseconds timeout = 10s);

// Round trips on each client, one thread each, until its send is refused (the service took no
// more requests: the way a drain ends a client) or its answer does not come back whole (a
// loss). What a stop must keep: every request that went out is answered.
class RoundTripLoad {
 public:
  explicit RoundTripLoad(std::vector<Client> clients);
  ~RoundTripLoad();  // waits for the threads
  RoundTripLoad(const RoundTripLoad&) = delete;
  RoundTripLoad& operator=(const RoundTripLoad&) = delete;
  // Waits for the threads (each ends at its first refused send or loss; bounded by the
  // clients' timeouts).
  void join();
  [[nodiscard]] int answered() const noexcept { return answered_.load(); }
  [[nodiscard]] int lost() const noexcept { return lost_.load(); }
  [[nodiscard]] int refused() const noexcept { return refused_.load(); }

 private:
  std::vector<Client> clients_;
  std::atomic<int> answered_{0};
  std::atomic<int> lost_{0};
  std::atomic<int> refused_{0};
  std::vector<std::thread> threads_;
};

}  // namespace ipc::test
