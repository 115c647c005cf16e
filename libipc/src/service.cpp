// The service side: accept loop, sessions, caps, signals, readiness, shutdown.
#include "ipc/service.hpp"

#include <sys/inotify.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <csignal>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/signal_set.hpp>

#include "ipc/log.hpp"
#include "ipc/rundir.hpp"
#include "ipc/text.hpp"
#include "ipc/trust.hpp"

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
      per_peer_(options.max_per_peer),
      shutdown_deadline_(io),
      signals_(io, SIGINT, SIGTERM, SIGHUP) {
  // Writes to a peer that went away must fail with EPIPE, not kill the process.
  std::signal(SIGPIPE, SIG_IGN);
  if (options_.max_buffered > 0) {
    budget_.limit = options_.max_buffered;
    // The largest holder is refused first: whoever is closest to the frame limit costs the most.
    budget_.choose = [this](Connection&) -> Connection* {
      Connection* largest = nullptr;
      for (Connection* connection : sessions_) {
        if (!connection->is_open()) continue;  // refused already: its share is given back
        if (largest == nullptr || connection->held() > largest->held()) largest = connection;
      }
      return largest;
    };
    options_.limits.budget = &budget_;
  } else {
    options_.limits.budget = nullptr;
  }
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
  using namespace asio::experimental::awaitable_operators;
  asio::steady_timer backoff(io_);
  asio::steady_timer look_again(io_);
  while (!stopping_) {
    // At the cap: make room by closing the client idle longest, or stop accepting (clients wait
    // in the backlog) until a session ends or one has been idle long enough.
    while (!stopping_ && sessions_.size() >= options_.max_connections) {
      if (shed_idlest()) {
        co_await session_ended_.wait();
        continue;
      }
      if (options_.shed_idle_after.count() == 0) {
        co_await session_ended_.wait();
      } else {
        look_again.expires_after(std::max(options_.shed_idle_after / 4, std::chrono::milliseconds(10)));
        co_await (session_ended_.wait() || look_again.async_wait(use_nothrow));
      }
    }
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
    std::optional<PeerLimit::Slot> slot;
    if (per_peer_.max() > 0) {
      ucred peer{};
      socklen_t length = sizeof peer;
      if (::getsockopt(socket.native_handle(), SOL_SOCKET, SO_PEERCRED, &peer, &length) == 0 &&
          std::find(options_.per_peer_exempt.begin(), options_.per_peer_exempt.end(), peer.uid) ==
              options_.per_peer_exempt.end()) {
        slot = per_peer_.take("uid " + std::to_string(peer.uid));
        if (!slot) {
          refuse_over_limit(std::move(socket), peer.uid);
          continue;
        }
      }
    }
    start_session(std::move(socket), listener.handler, std::move(slot));
  }
}

bool Service::shed_idlest() {
  if (options_.shed_idle_after.count() == 0) return false;
  Connection* idlest = nullptr;
  for (Connection* connection : sessions_) {
    if (!connection->is_open()) return false;  // one is closing already: its end makes room
    if (idlest == nullptr || connection->last_activity() < idlest->last_activity()) idlest = connection;
  }
  if (idlest == nullptr) return false;
  const auto idle = std::chrono::steady_clock::now() - idlest->last_activity();
  if (idle < options_.shed_idle_after) return false;
  const Error why(ErrorCode::unavailable,
                  "closed to make room for a new client: idle for " +
                      seconds_text(std::chrono::duration_cast<std::chrono::milliseconds>(idle)) + " while all " +
                      std::to_string(options_.max_connections) + " connections were taken (--max-connections)");
  log_info("client pid ", idlest->peer().pid, ": ", why.text());
  idlest->close_with(why);
  return true;
}

void Service::refuse_over_limit(UnixSocket socket, uid_t uid) {
  const Error why(ErrorCode::unavailable, "uid " + std::to_string(uid) + " already holds " +
                                              std::to_string(per_peer_.max()) +
                                              " connections to this service (--max-per-peer)");
  log_info(why.text());
  asio::co_spawn(
      io_,
      [socket = std::move(socket), why]() mutable -> asio::awaitable<void> {
        Connection connection(std::move(socket));
        co_await connection.send_error(why, std::chrono::seconds(1));
        connection.close();
      },
      asio::detached);
}

void Service::start_session(UnixSocket socket, const Handler& handler, std::optional<PeerLimit::Slot> slot) {
  asio::co_spawn(
      io_,
      [this, socket = std::move(socket), handler, slot = std::move(slot)]() mutable -> asio::awaitable<void> {
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

asio::awaitable<void> Service::close_idle_sessions() {
  const auto idle = options_.idle_timeout;
  // Looked at a few times per timeout: a session is closed between 1 and 1.25 timeouts idle.
  asio::steady_timer tick(io_);
  while (!stopping_) {
    tick.expires_after(std::max(idle / 4, std::chrono::milliseconds(10)));
    co_await tick.async_wait(use_nothrow);
    const auto now = std::chrono::steady_clock::now();
    for (Connection* connection : sessions_) {
      if (!connection->is_open() || now - connection->last_activity() < idle) continue;
      const Error idle_error(ErrorCode::timeout, "idle for " + seconds_text(idle) + ": closed (--idle-timeout)");
      log_info("client pid ", connection->peer().pid, ": ", idle_error.text());
      connection->close_with(idle_error);
    }
  }
}

asio::awaitable<void> Service::watch_rundir(int fd) {
  asio::posix::stream_descriptor events(io_, fd);
  std::vector<std::string> ours;
  for (const auto& listener : listeners_) ours.push_back(listener->socket.path().filename().string());
  alignas(inotify_event) std::array<char, 4096> buffer{};
  while (!stopping_) {
    auto [ec, n] = co_await events.async_read_some(asio::buffer(buffer), use_nothrow);
    if (ec || stopping_) break;
    std::string gone;
    for (std::size_t offset = 0; offset + sizeof(inotify_event) <= n;) {
      const auto* event = reinterpret_cast<const inotify_event*>(buffer.data() + offset);
      const std::string name = event->len > 0 ? std::string(event->name) : "";
      if (event->mask & (IN_DELETE_SELF | IN_MOVE_SELF)) gone = "the run directory " + rundir_.string();
      if ((event->mask & (IN_DELETE | IN_MOVED_FROM)) && std::find(ours.begin(), ours.end(), name) != ours.end())
        gone = "the socket " + (rundir_ / name).string();
      offset += sizeof(inotify_event) + event->len;
    }
    if (!gone.empty() && !stopping_) {
      log_error(gone, " was removed: nobody can connect any more; stopping (exit status 1)");
      exit_status_ = 1;
      stop();
    }
  }
}

int Service::run() {
  asio::co_spawn(io_, watch_signals(), asio::detached);
  if (!listeners_.empty()) {
    // Watched before READY=1, so that nothing removed after readiness goes unnoticed.
    const int fd = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (fd < 0) {
      log_warn("inotify: ", std::strerror(errno), ": a removed run directory would go unnoticed");
    } else if (::inotify_add_watch(fd, rundir_.c_str(),
                                   IN_DELETE | IN_MOVED_FROM | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR) < 0) {
      log_warn("inotify on ", rundir_.string(), ": ", std::strerror(errno), ": a removed run directory would go unnoticed");
      ::close(fd);
    } else {
      asio::co_spawn(io_, watch_rundir(fd), asio::detached);
    }
  }
  if (options_.idle_timeout.count() > 0) asio::co_spawn(io_, close_idle_sessions(), asio::detached);
  systemd::notify("READY=1");
  io_.run();
  for (auto& listener : listeners_) listener->socket.remove_file();
  return exit_status_;
}

void add_service_flags(CommandLine& command_line) {
  const ServiceOptions defaults;
  command_line.options().add_options()
      ("max-message", po::value<std::size_t>()->value_name("BYTES")->default_value(defaults.limits.max_payload),
       "largest frame payload accepted; larger ones get ERROR too-large")
      ("max-connections", po::value<std::size_t>()->value_name("N")->default_value(defaults.max_connections),
       "clients served at once; more wait until one leaves")
      ("max-per-peer", po::value<std::size_t>()->value_name("N")->default_value(0),
       "connections one uid may hold at once (0: no limit); one more gets ERROR unavailable. Root "
       "and ipcd's user, which connect on behalf of many clients, are not counted")
      ("max-buffered", po::value<std::size_t>()->value_name("BYTES")->default_value(defaults.max_buffered),
       "bytes all clients together may hold in frames not yet received whole (0: no bound); over it "
       "the client holding the most gets ERROR too-large and is closed")
      ("idle-timeout", po::value<double>()->value_name("SECONDS")->default_value(0),
       "close a client that sends and receives nothing for this long, with ERROR timeout (0: never)");
}

ServiceOptions service_options(const CommandLine& command_line, const po::variables_map& flags) {
  ServiceOptions options;
  options.limits.max_payload = flags["max-message"].as<std::size_t>();
  if (options.limits.max_payload > 0xffffffffu) command_line.fail("--max-message: at most 4294967295");
  options.max_connections = flags["max-connections"].as<std::size_t>();
  if (options.max_connections == 0) command_line.fail("--max-connections: must be at least 1");
  options.max_per_peer = flags["max-per-peer"].as<std::size_t>();
  options.per_peer_exempt = TrustedUsers::defaults({broker_user}).uids();
  options.max_buffered = flags["max-buffered"].as<std::size_t>();
  options.shed_idle_after = std::chrono::milliseconds(1000);
  const double idle = flags["idle-timeout"].as<double>();
  if (!(idle >= 0) || idle > 86400) command_line.fail("--idle-timeout: between 0 and 86400 seconds");
  options.idle_timeout = std::chrono::milliseconds(static_cast<long long>(idle * 1000));
  if (idle > 0 && options.idle_timeout.count() == 0) options.idle_timeout = std::chrono::milliseconds(1);
  return options;
}

}  // namespace ipc
