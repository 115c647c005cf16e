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
#include <boost/asio/local/connect_pair.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/signal_set.hpp>

#include "ipc/deadline.hpp"
#include "ipc/fd_async.hpp"
#include "ipc/address.hpp"
#include "ipc/broker.hpp"
#include "ipc/log.hpp"
#include "ipc/rundir.hpp"
#include "ipc/text.hpp"
#include "ipc/trust.hpp"
#include "ipc/ws/server.hpp"

namespace ipc {

Service::Service(asio::io_context& io, std::filesystem::path rundir, ServiceOptions options)
    : io_(io),
      rundir_(std::move(rundir)),
      options_(options),
      server_(io.get_executor(), options.drain, options.shutdown_grace),
      clients_(server_.group({options.max_connections, options.shed_idle_after, "--max-connections"})),
      // Each holds a slot for one frame's exchange with a trusted daemon (10 s at most).
      adopters_(server_.group({64, std::chrono::milliseconds(0), "the adoption socket's cap"})),
      // One beside each adopted ws:// client (below the clients' own cap, so never reached).
      bridges_(server_.group({options.max_connections, std::chrono::milliseconds(0), "--max-connections"})),
      ws_budget_(options.max_buffered),
      per_peer_(options.max_per_peer),
      signals_(io, SIGINT, SIGTERM, SIGHUP) {
  // Writes to a peer that went away must fail with EPIPE, not kill the process.
  std::signal(SIGPIPE, SIG_IGN);
  if (options_.max_buffered > 0) {
    budget_.limit = options_.max_buffered;
    // The largest holder is refused first: whoever is closest to the frame limit costs the most.
    budget_.choose = [this](Connection&) -> Connection* {
      Connection* largest = nullptr;
      server_.for_each([&largest](Session& session) {
        Connection* connection = session.connection;
        if (connection == nullptr || !connection->is_open()) return;  // refused already: its share is given back
        if (largest == nullptr || connection->held() > largest->held()) largest = connection;
      });
      return largest;
    };
    options_.limits.budget = &budget_;
  } else {
    options_.limits.budget = nullptr;
  }
}

Service::~Service() = default;

ListeningSocket Service::inherited(const std::string& name, const std::filesystem::path& path, bool only_one) {
  if (!inherited_taken_) {
    inherited_ = systemd::take_listen_fds();
    inherited_taken_ = true;
  }
  // systemd passes sockets named after the service (FileDescriptorName=), or one unnamed one.
  for (auto it = inherited_.begin(); it != inherited_.end(); ++it) {
    if (it->name == name || (only_one && inherited_.size() == 1 && (it->name.empty() || it->name == "unknown"))) {
      ListeningSocket socket = ListeningSocket::adopt(std::move(it->fd), path);
      inherited_.erase(it);
      log_info("serving ", name, " on a socket passed by systemd");
      return socket;
    }
  }
  return {};
}

void Service::listen(const ServiceName& name, Handler handler) {
  ListeningSocket socket = inherited(name.str(), socket_path(rundir_, name), true);
  if (socket.fd() < 0) {
    socket = ListeningSocket::bind(rundir_, name);
    log_info("serving ", name.str(), " on ", socket.path().string());
  }
  ListeningSocket adoption;
  if (options_.adopt) {
    const auto path = adoption_socket_path(rundir_, name);
    adoption = inherited(path.filename().string(), path, false);
    if (adoption.fd() < 0) adoption = ListeningSocket::bind_file(rundir_, path);
    log_debug("adopting connections for ", name.str(), " on ", adoption.path().string());
  }
  const auto serve = [this](ListeningSocket listening, Server::Group& group, Server::Handler<UnixSocket> run) {
    UnixAcceptor acceptor(io_);
    acceptor.assign(asio::local::stream_protocol(), listening.fd());
    // The acceptor now owns the descriptor; the ListeningSocket keeps only the file to remove.
    (void)listening.release_fd();
    const std::string where = listening.path().string();
    sockets_.push_back(std::move(listening));
    server_.accept(std::move(acceptor), where, group, std::move(run));
  };
  serve(std::move(socket), clients_, [this, handler](UnixSocket client, SessionTicket ticket) {
    return this->session(std::move(client), std::move(ticket), handler);
  });
  if (adoption.fd() >= 0) {
    serve(std::move(adoption), adopters_, [this, handler, name](UnixSocket daemon, SessionTicket ticket) {
      return this->adoption(std::move(daemon), std::move(ticket), handler, name);
    });
  }
}

void Service::adopt(UnixSocket socket, Handler handler) {
  server_.start(clients_, std::move(socket), [this, handler = std::move(handler)](UnixSocket client, SessionTicket ticket) {
    return this->session(std::move(client), std::move(ticket), handler);
  });
}

namespace {

// Who a session's peer is, for the log: "client pid 1234", or "tcp peer 192.0.2.7:51234 (alice)"
// for a remote peer's adopted connection (what it chose, its identity, with control bytes escaped).
std::string who_is(const Connection& connection) {
  if (const Adoption* remote = connection.remote())
    return std::string(to_string(remote->peer.scheme)) + " peer " + printable(remote->peer.peer) +
           (remote->peer.identity.empty() ? "" : " (" + printable(remote->peer.identity) + ")");
  return "client pid " + std::to_string(connection.peer().pid);
}

}  // namespace

bool Service::take_peer_slot(Connection& connection, std::optional<PeerLimit::Slot>& slot) {
  if (per_peer_.max() == 0) return true;
  const uid_t uid = connection.peer().uid;
  const auto& exempt = options_.per_peer_exempt;
  if (std::find(exempt.begin(), exempt.end(), uid) != exempt.end()) return true;
  slot = per_peer_.take("uid " + std::to_string(uid));
  if (slot) return true;
  const Error why(ErrorCode::unavailable, "uid " + std::to_string(uid) + " already holds " +
                                              std::to_string(per_peer_.max()) +
                                              " connections to this service (--max-per-peer)");
  log_info(why.text());
  connection.close_with(why);
  return false;
}

asio::awaitable<void> Service::session(UnixSocket socket, SessionTicket ticket, const Handler& handler,
                                       std::unique_ptr<const Adoption> remote,
                                       std::optional<PeerLimit::Slot> remote_slot) {
  Session& session = *ticket;
  Connection connection(std::move(socket), options_.limits);
  std::optional<PeerLimit::Slot> slot;
  (void)remote_slot;  // held as long as the session runs
  // A remote peer has no uid here: it is counted by address (remote_slot, the daemon's
  // --max-per-peer).
  if (remote)
    connection.set_remote(std::move(remote));
  else if (!take_peer_slot(connection, slot))
    co_return;
  const std::string who = who_is(connection);
  session.connection = &connection;
  connection.set_session(&session);
  session.close = [&connection](const Error* why) {
    if (why != nullptr)
      connection.close_with(*why);
    else
      connection.close();
  };
  // At stop: the answer being worked on goes out, then the session ends (receive() gives false).
  session.drain = [&connection] { connection.finish(); };
  if (options_.shed_idle_after.count() > 0)
    session.idle_since = [&connection]() -> std::optional<Session::Clock::time_point> {
      return connection.last_activity();
    };
  log_debug(who, " connected");
  std::optional<Error> failure;
  try {
    co_await handler(connection);
  } catch (const Error& e) {
    log_info(who, ": ", e.what());
    failure = e;
  } catch (const std::exception& e) {
    log_error(who, ": internal error: ", e.what());
    failure = Error(ErrorCode::internal, "internal error in the service");
  }
  if (failure) co_await connection.send_error(*failure);
  connection.close();
  log_debug(who, " done");
}

namespace {

// The adopted connection, on its way from the adoption session to its own.
struct Adopted {
  UnixSocket socket;
  std::unique_ptr<const Adoption> remote;
  std::optional<PeerLimit::Slot> slot;
};

// An adopted ws:// connection's WebSocket side, on its way to the session that answers the
// upgrade and relays (ws::serve_adopted).
struct Bridged {
  Bridged(TcpSocket tcp, ws::Request upgrade, ws::StreamSettings stream, UnixSocket pair_end, ConnectionLimits limits,
          ws::RelayOptions relay)
      : socket(std::move(tcp)),
        request(std::move(upgrade)),
        settings(std::move(stream)),
        local(std::move(pair_end), limits),
        options(std::move(relay)) {}
  TcpSocket socket;
  ws::Request request;
  ws::StreamSettings settings;
  Connection local;
  ws::RelayOptions options;
};

// The upgrade an adopted ws:// connection asks for: its request, the mapping websocketd chose.
struct Upgrade {
  ws::Request request;
  ws::Subprotocol mode = ws::Subprotocol::none;
  int family = AF_INET;  // of the TCP socket
  // The socket pair: the client's session on one end, the WebSocket's relay on the other.
  UnixSocket session_end, bridge_end;
};

// A connection taken only to be refused (over the service's limits): told why as a local client
// is (an ERROR frame; for ws://, nothing being upgraded yet, 503 with "code: text"), then closed
// once the peer has had a moment to read it (async_linger).
asio::awaitable<void> refuse_adopted(UniqueFd fd, Error why, bool ws) {
  std::string answer = encode(Message::error(why.payload()));
  if (ws) {
    const std::string body = why.payload() + "\n";
    answer = "HTTP/1.1 503 Service Unavailable\r\nServer: ipc\r\nContent-Type: text/plain; charset=utf-8\r\n"
             "Cache-Control: no-store\r\nConnection: close\r\nContent-Length: " +
             std::to_string(body.size()) + "\r\n\r\n" + body;
  }
  // Best effort, as the peer's buffer is empty: one non-blocking send.
  (void)::send(fd.get(), answer.data(), answer.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
  asio::posix::stream_descriptor stream(co_await asio::this_coro::executor, fd.release());
  co_await async_linger(stream, std::chrono::seconds(1), 64 * 1024);
}

// Never shed and never drained: it ends when the client's session does (at stop, with 1001 going
// away), or when closed.
asio::awaitable<void> bridge_session(std::shared_ptr<Bridged> bridged, SessionTicket ticket) {
  Session& session = *ticket;
  session.close = [&local = bridged->local](const Error*) { local.close(); };
  co_await ws::serve_adopted(std::move(bridged->socket), std::move(bridged->request), bridged->settings,
                             bridged->local, bridged->options);
  session.close = nullptr;
}

Upgrade upgrade_of(const Adoption& adoption, int fd, asio::io_context& io) {
  sockaddr_storage local{};
  socklen_t length = sizeof local;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &length) != 0 ||
      (local.ss_family != AF_INET && local.ss_family != AF_INET6))
    throw Error(ErrorCode::bad_request, "ADOPT: a ws:// connection must be a TCP socket");
  std::string why;
  auto request = ws::parse_upgrade_request(adoption.request, why);
  if (!request) throw Error(ErrorCode::bad_request, "ADOPT: " + why);
  // (parse_adopt took only the mapping's subprotocols.)
  const auto mode = adoption.subprotocol.empty() ? ws::Subprotocol::none : *ws::choose_subprotocol(adoption.subprotocol);
  return Upgrade{std::move(*request), mode, local.ss_family, UnixSocket(io), UnixSocket(io)};
}

// The address part of a peer "192.0.2.7:51234" / "[2001:db8::1]:443", what --max-per-peer counts.
std::string peer_address(const std::string& peer) {
  try {
    return split_host_port(peer).host;
  } catch (const std::invalid_argument&) {
    return peer;
  }
}

// Whether `fd` is a connected stream socket (TCP, or a Unix one in tests), the only kind a
// session can run on.
bool is_stream_socket(int fd) {
  int type = 0;
  socklen_t length = sizeof type;
  if (::getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &length) != 0 || type != SOCK_STREAM) return false;
  sockaddr_storage peer{};
  socklen_t peer_length = sizeof peer;
  return ::getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &peer_length) == 0;
}

}  // namespace

asio::awaitable<void> Service::adoption(UnixSocket socket, SessionTicket ticket, const Handler& handler,
                                        ServiceName name) {
  Session& session = *ticket;
  // Ended at once by a stop or the end of the drain: nothing is adopted any more then.
  const int fd = socket.native_handle();
  session.close = [fd](const Error*) { ::shutdown(fd, SHUT_RDWR); };
  session.drain = [fd] { ::shutdown(fd, SHUT_RDWR); };
  ucred daemon{};
  socklen_t length = sizeof daemon;
  if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &daemon, &length) != 0) co_return;
  constexpr std::chrono::seconds answer_timeout(2);
  std::optional<Error> failure;
  FrameWithFd got;
  std::optional<Adoption> adopted;
  std::optional<Upgrade> upgrade;
  std::optional<PeerLimit::Slot> slot;
  std::optional<Error> over_limit;
  try {
    // The peer description would be believed as it stands: from nobody else (DESIGN §15), and
    // not a byte of theirs is read.
    const auto& trusted = options_.adopt_from;
    if (std::find(trusted.begin(), trusted.end(), daemon.uid) == trusted.end())
      throw Error(ErrorCode::denied, "ADOPT is only taken from root, ipcd's user and the protocol daemons' "
                                     "users (--adopt-from), not from uid " + std::to_string(daemon.uid));
    got = co_await async_recv_frame_with_fd(socket, max_request_payload, std::chrono::seconds(10));
    if (got.message.type != MessageType::adopt)
      throw Error(ErrorCode::bad_request, "the adoption socket takes ADOPT, not " + std::string(to_string(got.message.type)));
    if (!got.fd) throw Error(ErrorCode::bad_request, "ADOPT without a connection (no file descriptor came with it)");
    if (!is_stream_socket(got.fd.get()))
      throw Error(ErrorCode::bad_request, "ADOPT's file descriptor is not a connected stream socket");
    adopted = parse_adopt(got.message);
    if (adopted->peer.scheme == Scheme::ws) {
      upgrade.emplace(upgrade_of(*adopted, got.fd.get(), io_));
      // The socket pair between the WebSocket side and the session, before the ok: out of
      // descriptors, the daemon is told so while it can still relay.
      boost::system::error_code ec;
      asio::local::connect_pair(upgrade->session_end, upgrade->bridge_end, ec);
      if (ec)
        throw Error(ErrorCode::unavailable, "no socket pair for the WebSocket (" + ec.message() + ")");
    }
    // Adopted sessions count against --max-connections as accepted ones do. The daemon keeps
    // nothing of what it hands over: its per-address limit is held here. Over either, the
    // connection is taken all the same and the peer told why, as a local client is: refused, the
    // daemon would relay it, past the limit.
    const std::string address = peer_address(adopted->peer.peer);
    if (clients_.open() >= options_.max_connections)
      over_limit = Error(ErrorCode::unavailable, "the service is at its cap of " +
                                                     std::to_string(options_.max_connections) +
                                                     " connections (--max-connections)");
    else if (adopted->max_per_peer > 0 && remote_peers_.held(address) >= adopted->max_per_peer)
      over_limit = Error(ErrorCode::unavailable, printable(address) + " already holds " +
                                                     std::to_string(adopted->max_per_peer) +
                                                     " adopted connections to this service (the daemon's --max-per-peer)");
    else
      slot = remote_peers_.take(address);  // (its own map: an address never meets a "uid N")
  } catch (const Error& e) {
    failure = e;
  }
  if (failure) {
    if (failure->code() == ErrorCode::denied)
      log_warn("adoption socket: pid ", daemon.pid, ": ", failure->text());
    else
      log_info("adoption socket: pid ", daemon.pid, ": ", failure->what());
    try {
      co_await async_send_frame_with_fd(socket, Message::error(failure->payload()), -1, answer_timeout);
    } catch (const Error&) {
      // Gone first: nothing more to say.
    }
    co_return;
  }
  // Said before the session starts: the daemon lets go of the connection once it hears ok.
  try {
    co_await async_send_frame_with_fd(socket, Message::data("ok"), -1, answer_timeout);
  } catch (const Error& e) {
    log_info("adoption socket: pid ", daemon.pid, ": the ok was not delivered (", e.what(), "): the connection is dropped");
    co_return;
  }
  if (over_limit) {
    log_info(to_string(adopted->peer.scheme), " peer ", printable(adopted->peer.peer), ": ", over_limit->what());
    co_await refuse_adopted(std::move(got.fd), *over_limit, upgrade.has_value());
    co_return;
  }
  UnixSocket connection(io_);
  if (upgrade) {
    // ws://: the WebSocket side (the upgrade, the §11 mapping) runs in a session of its own,
    // relaying to the client's session through a socket pair, in this process.
    connection = std::move(upgrade->session_end);
    UnixSocket outer = std::move(upgrade->bridge_end);
    TcpSocket tcp(io_);
    tcp.assign(upgrade->family == AF_INET6 ? asio::ip::tcp::v6() : asio::ip::tcp::v4(), got.fd.release());
    // (Named as this service is, not as the peer asked: a redirection may have led it here.)
    ws::StreamSettings settings{upgrade->mode, options_.limits.max_payload};
    settings.server = name.str() + " (ipc)";
    ws::RelayOptions relay{upgrade->mode, options_.limits.max_payload, &server_,
                           "ws " + printable(adopted->peer.peer) + " -> " + name.str(),
                           &ws_budget_, options_.limits.write_timeout, name.str()};
    ConnectionLimits local_limits = options_.limits;
    local_limits.budget = nullptr;  // the frames of this service's own session
    auto bridged = std::make_shared<Bridged>(std::move(tcp), std::move(upgrade->request), std::move(settings),
                                             std::move(outer), local_limits, std::move(relay));
    server_.start(bridges_, [bridged](SessionTicket ticket) { return bridge_session(bridged, std::move(ticket)); });
  } else {
    connection.assign(asio::local::stream_protocol(), got.fd.release());
  }
  auto handed = std::make_shared<Adopted>(
      Adopted{std::move(connection), std::make_unique<const Adoption>(std::move(*adopted)), std::move(slot)});
  server_.start(clients_, [this, handed, handler](SessionTicket client) {
    return this->session(std::move(handed->socket), std::move(client), handler, std::move(handed->remote),
                         std::move(handed->slot));
  });
}

asio::awaitable<void> Service::watch_signals() {
  while (!server_.stopping()) {
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
  if (server_.stopping()) return;
  systemd::notify("STOPPING=1");
  for (auto& socket : sockets_) socket.remove_file();
  boost::system::error_code ignored;
  signals_.cancel(ignored);
  // The daemon's other listeners (TCP) run on the same Server: its stop ends them too.
  server_.stop([this] { io_.stop(); });
}

asio::awaitable<void> Service::close_idle_sessions() {
  const auto idle = options_.idle_timeout;
  // Looked at a few times per timeout: a session is closed between 1 and 1.25 timeouts idle.
  asio::steady_timer tick(io_);
  while (!server_.stopping()) {
    tick.expires_after(std::max(idle / 4, std::chrono::milliseconds(10)));
    co_await tick.async_wait(use_nothrow);
    const auto now = std::chrono::steady_clock::now();
    server_.for_each([&](Session& session) {
      Connection* connection = session.connection;
      if (connection == nullptr || !connection->is_open() || now - connection->last_activity() < idle) return;
      const Error idle_error(ErrorCode::timeout, "idle for " + seconds_text(idle) + ": closed (--idle-timeout)");
      log_info(who_is(*connection), ": ", idle_error.text());
      connection->close_with(idle_error);
    });
  }
}

asio::awaitable<void> Service::watch_rundir(int fd) {
  asio::posix::stream_descriptor events(io_, fd);
  std::vector<std::string> ours;
  for (const auto& socket : sockets_) ours.push_back(socket.path().filename().string());
  alignas(inotify_event) std::array<char, 4096> buffer{};
  while (!server_.stopping()) {
    auto [ec, n] = co_await events.async_read_some(asio::buffer(buffer), use_nothrow);
    if (ec || server_.stopping()) break;
    std::string gone;
    for (std::size_t offset = 0; offset + sizeof(inotify_event) <= n;) {
      const auto* event = reinterpret_cast<const inotify_event*>(buffer.data() + offset);
      const std::string name = event->len > 0 ? std::string(event->name) : "";
      if (event->mask & (IN_DELETE_SELF | IN_MOVE_SELF)) gone = "the run directory " + rundir_.string();
      if ((event->mask & (IN_DELETE | IN_MOVED_FROM)) && std::find(ours.begin(), ours.end(), name) != ours.end())
        gone = "the socket " + (rundir_ / name).string();
      offset += sizeof(inotify_event) + event->len;
    }
    if (!gone.empty() && !server_.stopping()) {
      log_error(gone, " was removed: nobody can connect any more; stopping (exit status 1)");
      exit_status_ = 1;
      stop();
    }
  }
}

int Service::run() {
  asio::co_spawn(io_, watch_signals(), asio::detached);
  if (!sockets_.empty()) {
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
  for (auto& socket : sockets_) socket.remove_file();
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
       "close a client that sends and receives nothing for this long, with ERROR timeout (0: never)")
      ("no-adopt",
       "open no adoption socket (RUNDIR/NAME@adopt): remote peers' connections are then relayed by the "
       "protocol daemon instead of handed to the service")
      ("adopt-from", po::value<std::vector<std::string>>()->value_name("USER")->composing(),
       "a user whose ADOPT (a remote peer's connection, with its description) is taken on the adoption "
       "socket, besides root (repeatable; default: the users ipcd, ipc-tcpd, ipc-websocketd and ipc-udpd "
       "where they exist, and the service's own user)");
  add_session_flags(command_line);
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
  options.adopt = !flags.count("no-adopt");
  options.adopt_from =
      trusted_users_flag(command_line, flags, "adopt-from", {broker_user, "ipc-tcpd", "ipc-websocketd", "ipc-udpd"}).uids();
  options.idle_timeout = seconds_flag(command_line, flags, "idle-timeout", true);
  const SessionFlags session = session_flags(command_line, flags);
  options.drain = session.drain;
  options.limits.write_timeout = session.write_timeout;
  return options;
}

void add_session_flags(CommandLine& command_line) {
  const ServiceOptions defaults;
  command_line.options().add_options()
      ("drain", po::value<double>()->value_name("SECONDS")->default_value(defaults.drain.count() / 1000.0),
       "at SIGTERM, stop accepting and give open sessions this long to finish what they are doing (a "
       "client's answer, a relayed exchange) before they are closed (0: close them at once)")
      ("write-timeout", po::value<double>()->value_name("SECONDS")
                            ->default_value(defaults.limits.write_timeout.count() / 1000.0),
       "drop a peer that takes nothing for this long while data waits for it (a slow but moving one "
       "is kept; 0: wait forever)");
}

SessionFlags session_flags(const CommandLine& command_line, const po::variables_map& flags) {
  return {seconds_flag(command_line, flags, "drain", true), seconds_flag(command_line, flags, "write-timeout", true)};
}

void add_keepalive_flag(CommandLine& command_line) {
  command_line.options().add_options()
      ("keepalive", po::value<double>()->value_name("SECONDS")->default_value(60),
       "probe a remote connection silent for this long, and end it when the peer has not answered "
       "(or acknowledged data sent to it) for about twice that; also for connections handed over to a "
       "client or service (0: the kernel's timing, net.ipv4.tcp_keepalive_*)");
}

std::chrono::seconds keepalive_flag(const CommandLine& command_line, const po::variables_map& flags) {
  const auto value = seconds_flag(command_line, flags, "keepalive", true);
  if (value.count() % 1000 != 0) command_line.fail("--keepalive: whole seconds");
  return std::chrono::duration_cast<std::chrono::seconds>(value);
}

}  // namespace ipc
