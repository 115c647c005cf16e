// The service side: accept loop, sessions, caps, signals, readiness, shutdown.
#include "ipc/service.hpp"

#include <csignal>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/signal_set.hpp>

#include "ipc/log.hpp"
#include "ipc/rundir.hpp"

namespace ipc {

struct Service::Listener {
  ListeningSocket socket;
  UnixAcceptor acceptor;
  Handler handler;
};

Service::Service(asio::io_context& io, std::filesystem::path rundir, ServiceOptions options)
    : io_(io),
      rundir_(std::move(rundir)),
      options_(options),
      session_ended_(io.get_executor()),
      shutdown_deadline_(io),
      signals_(io, SIGINT, SIGTERM, SIGHUP) {
  // Writes to a peer that went away must fail with EPIPE, not kill the process.
  std::signal(SIGPIPE, SIG_IGN);
}

Service::~Service() = default;

void Service::listen(const ServiceName& name, Handler handler) {
  if (!inherited_taken_) {
    inherited_ = systemd::take_listen_fds();
    inherited_taken_ = true;
  }
  ListeningSocket socket;
  // systemd passes sockets named after the service (FileDescriptorName=), or one unnamed one.
  for (auto it = inherited_.begin(); it != inherited_.end(); ++it) {
    if (it->name == name.str() || (inherited_.size() == 1 && (it->name.empty() || it->name == "unknown"))) {
      socket = ListeningSocket::adopt(std::move(it->fd), socket_path(rundir_, name));
      inherited_.erase(it);
      log_info("serving ", name.str(), " on a socket passed by systemd");
      break;
    }
  }
  if (socket.fd() < 0) {
    socket = ListeningSocket::bind(rundir_, name);
    log_info("serving ", name.str(), " on ", socket.path().string());
  }
  auto listener = std::make_unique<Listener>(Listener{std::move(socket), UnixAcceptor(io_), std::move(handler)});
  listener->acceptor.assign(asio::local::stream_protocol(), listener->socket.fd());
  // The acceptor now owns the descriptor; the ListeningSocket keeps only the file to remove.
  (void)listener->socket.release_fd();
  listeners_.push_back(std::move(listener));
  asio::co_spawn(io_, accept_loop(*listeners_.back()), asio::detached);
}

void Service::adopt(UnixSocket socket, Handler handler) { start_session(std::move(socket), handler); }

asio::awaitable<void> Service::accept_loop(Listener& listener) {
  asio::steady_timer backoff(io_);
  while (!stopping_) {
    // At the cap, stop accepting: clients wait in the backlog until a session ends.
    while (!stopping_ && sessions_.size() >= options_.max_connections) co_await session_ended_.wait();
    if (stopping_) break;
    auto [ec, socket] = co_await listener.acceptor.async_accept(use_nothrow);
    if (ec == asio::error::operation_aborted || stopping_) break;
    if (ec) {
      // EMFILE/ENFILE and friends: wait a little instead of spinning on the error.
      log_warn("accept on ", listener.socket.path().string(), ": ", ec.message());
      backoff.expires_after(std::chrono::milliseconds(100));
      co_await backoff.async_wait(use_nothrow);
      continue;
    }
    start_session(std::move(socket), listener.handler);
  }
}

void Service::start_session(UnixSocket socket, const Handler& handler) {
  asio::co_spawn(
      io_,
      [this, socket = std::move(socket), handler]() mutable -> asio::awaitable<void> {
        Connection connection(std::move(socket), options_.limits);
        sessions_.push_back(&connection);
        const auto self = std::prev(sessions_.end());
        co_await session(connection, handler);
        connection.close();
        sessions_.erase(self);
        session_ended_.notify_all();
      },
      asio::detached);
}

asio::awaitable<void> Service::session(Connection& connection, Handler handler) {
  const auto pid = connection.peer().pid;
  log_debug("client pid ", pid, " connected");
  std::optional<Error> failure;
  try {
    co_await handler(connection);
  } catch (const Error& e) {
    log_info("client pid ", pid, ": ", e.what());
    failure = e;
  } catch (const std::exception& e) {
    log_error("client pid ", pid, ": internal error: ", e.what());
    failure = Error(ErrorCode::internal, "internal error in the service");
  }
  if (failure) co_await connection.send_error(*failure);
  log_debug("client pid ", pid, " done");
}

asio::awaitable<void> Service::watch_signals() {
  while (!stopping_) {
    auto [ec, number] = co_await signals_.async_wait(use_nothrow);
    if (ec) break;
    if (number == SIGHUP) {
      log_info("SIGHUP: reloading");
      if (on_reload_) on_reload_();
      continue;
    }
    log_info(number == SIGINT ? "SIGINT" : "SIGTERM", ": shutting down");
    stop();
  }
}

void Service::stop() {
  if (stopping_) return;
  stopping_ = true;
  systemd::notify("STOPPING=1");
  for (auto& listener : listeners_) {
    boost::system::error_code ignored;
    listener->acceptor.close(ignored);
    listener->socket.remove_file();
  }
  boost::system::error_code ignored;
  signals_.cancel(ignored);
  session_ended_.notify_all();
  if (on_stop_) on_stop_();
  for (Connection* connection : sessions_) connection->close();
  // Sessions now end on their own; give them a grace period, then stop regardless.
  asio::co_spawn(
      io_,
      [this]() -> asio::awaitable<void> {
        using namespace asio::experimental::awaitable_operators;
        shutdown_deadline_.expires_after(options_.shutdown_grace);
        while (!sessions_.empty()) {
          auto woke = co_await (session_ended_.wait() || shutdown_deadline_.async_wait(use_nothrow));
          if (woke.index() == 1) {
            log_warn(sessions_.size(), " sessions did not end within the grace period");
            break;
          }
        }
        io_.stop();
      },
      asio::detached);
}

int Service::run() {
  asio::co_spawn(io_, watch_signals(), asio::detached);
  systemd::notify("READY=1");
  io_.run();
  for (auto& listener : listeners_) listener->socket.remove_file();
  return 0;
}

}  // namespace ipc
