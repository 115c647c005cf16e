// Service: the server side of libipc. Listens on RUNDIR/NAME (or on a socket inherited from
// systemd), runs one coroutine per client that owns its Connection, caps the number of clients,
// reports readiness with sd_notify, and shuts down cleanly on SIGINT/SIGTERM: stop accepting,
// remove the socket file, close the sessions, stop within a grace period.
//
// A service's whole job is its handler:
//
//   service.listen(name, [](ipc::Connection& c) -> asio::awaitable<void> { ... });
//
// The handler returns when it is done with the client. An ipc::Error it throws is sent to the
// client as an ERROR frame before the connection closes; other exceptions are logged as
// internal errors. Either way the service goes on serving everybody else.
#pragma once

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <functional>
#include <list>
#include <memory>

#include <boost/asio/signal_set.hpp>

#include "ipc/asio.hpp"
#include "ipc/connection.hpp"
#include "ipc/listener.hpp"
#include "ipc/service_name.hpp"
#include "ipc/systemd.hpp"

namespace ipc {

struct ServiceOptions {
  ConnectionLimits limits;
  std::size_t max_connections = 4096;  // at the cap, stop accepting until a client leaves
  std::chrono::milliseconds shutdown_grace{3000};
};

class Service {
 public:
  using Handler = std::function<asio::awaitable<void>(Connection&)>;

  Service(asio::io_context& io, std::filesystem::path rundir, ServiceOptions options = {});
  ~Service();
  Service(const Service&) = delete;
  Service& operator=(const Service&) = delete;

  // Serves NAME with `handler`. Uses a socket inherited from systemd when one is named NAME
  // (or is the only one), else binds RUNDIR/NAME. Throws std::runtime_error saying why not.
  void listen(const ServiceName& name, Handler handler);

  // Starts a session on an already connected stream socket (e.g. one passed by another daemon).
  void adopt(UnixSocket socket, Handler handler);

  // Called on SIGHUP.
  void on_reload(std::function<void()> callback) { on_reload_ = std::move(callback); }
  // Called once when the shutdown begins (signal or stop()), before the sessions are closed:
  // for a daemon that also serves something else (a TCP listener) to stop it at the same time.
  void on_stop(std::function<void()> callback) { on_stop_ = std::move(callback); }

  // Reports READY=1, runs until stopped, returns the process exit status.
  int run();
  // Begins the shutdown (as SIGTERM does).
  void stop();

  [[nodiscard]] std::size_t session_count() const noexcept { return sessions_.size(); }
  [[nodiscard]] asio::io_context& io() noexcept { return io_; }
  [[nodiscard]] const std::filesystem::path& rundir() const noexcept { return rundir_; }

 private:
  struct Listener;
  asio::awaitable<void> accept_loop(Listener& listener);
  asio::awaitable<void> session(Connection& connection, Handler handler);
  void start_session(UnixSocket socket, const Handler& handler);
  asio::awaitable<void> watch_signals();

  asio::io_context& io_;
  std::filesystem::path rundir_;
  ServiceOptions options_;
  std::list<std::unique_ptr<Listener>> listeners_;
  std::list<Connection*> sessions_;
  Signal session_ended_;
  bool stopping_ = false;
  bool inherited_taken_ = false;
  std::vector<systemd::ListenFd> inherited_;
  std::function<void()> on_reload_;
  std::function<void()> on_stop_;
  asio::steady_timer shutdown_deadline_;
  // Registered at construction, so a SIGTERM that arrives right after READY=1 is not lost.
  asio::signal_set signals_;
};

}  // namespace ipc
