// Server: the session runner every daemon stands on. It accepts on any number of listeners
// (Unix or TCP, bound or passed by systemd), runs one coroutine per session and keeps the
// registry of them, caps the sessions of each group of listeners by not accepting (peers wait
// in the backlog), backs off when accept fails (EMFILE), and at the cap closes the session
// idle longest to make room when a peer is waiting and that session may be shed.
//
// Stopping is a drain, as s6's lame-duck period: the listeners close at once, every session is
// asked to finish (a libipc service's session ends after the answer it is working on; a relay
// runs on), and whatever is still open after `drain` is closed; `done` runs once every session
// has ended, or after a short grace when one does not.
//
//   ipc::Server server(io.get_executor(), std::chrono::seconds(5));
//   auto& clients = server.group({.max_sessions = 1024});
//   server.accept(std::move(acceptor), "127.0.0.1:9000", clients,
//                 [](ipc::TcpSocket socket, ipc::SessionTicket ticket) -> asio::awaitable<void> {
//                   ipc::Session& session = *ticket;  ...
//                 });
//
// The handler's coroutine is the session's only frame: it holds its SessionTicket (its place in
// the registry) for as long as it runs, so an idle session costs no frame of the Server's. It
// sets the hooks that say how to end it (Session::close, drain, idle_since) as its state
// changes: a handshake that may be shed, a relay that may not.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <list>
#include <memory>
#include <optional>
#include <string>

#include <boost/asio/ip/tcp.hpp>

#include "ipc/asio.hpp"
#include "ipc/error.hpp"

namespace ipc {

class Connection;
using TcpSocket = asio::ip::tcp::socket;

class Session {
 public:
  using Clock = std::chrono::steady_clock;

  // Ends the session now. `why` is the reason when it is shed at the cap (say it to the peer
  // where the protocol can); nullptr when the drain is over. Unset: the session cannot be ended
  // from outside and is waited for (within the grace).
  std::function<void(const Error* why)> close;
  // Asks the session to end once it has finished what it is doing (at stop). Unset: it runs on
  // until the drain is over.
  std::function<void()> drain;
  // Since when the session has been idle, for shedding at the cap; nullopt while it is busy or
  // must not be shed. Unset: never shed.
  std::function<std::optional<Clock::time_point>()> idle_since;
  // The framed connection of a libipc service's session (for the service's budget and idle
  // timeout); nullptr for others.
  Connection* connection = nullptr;

  // Whether the server has closed it already (it is ending).
  [[nodiscard]] bool closing() const noexcept { return closing_; }

 private:
  friend class Server;
  bool closing_ = false;
};

namespace detail {
struct SessionRegistry;  // server.cpp
struct SessionEntry;
}  // namespace detail

// A session's place in the Server's registry, held by the session's coroutine: it leaves the
// registry when destroyed, also when the io_context destroys the frame unfinished (the Server
// may be gone by then).
class SessionTicket {
 public:
  SessionTicket(SessionTicket&& other) noexcept;
  SessionTicket& operator=(SessionTicket&&) = delete;
  SessionTicket(const SessionTicket&) = delete;
  ~SessionTicket();
  [[nodiscard]] Session& operator*() const noexcept { return *session_; }
  [[nodiscard]] Session* operator->() const noexcept { return session_; }

 private:
  friend class Server;
  SessionTicket(std::shared_ptr<detail::SessionRegistry> registry, detail::SessionEntry* entry, Session* session) noexcept
      : registry_(std::move(registry)), entry_(entry), session_(session) {}
  std::shared_ptr<detail::SessionRegistry> registry_;
  detail::SessionEntry* entry_ = nullptr;
  Session* session_ = nullptr;
};

class Server {
 public:
  // A group of listeners whose sessions count against one cap (a daemon's Unix clients, its
  // TCP peers).
  struct Limits {
    std::size_t max_sessions = 4096;
    // At the cap with a peer waiting, the session idle longest is closed once it has been idle
    // this long (0: never shed; the peer waits until a session ends).
    std::chrono::milliseconds shed_idle_after{0};
    // What the operator changes to raise the cap, for the messages: "--max-connections".
    std::string cap_flag = "--max-connections";
  };
  class Group {
   public:
    [[nodiscard]] std::size_t open() const noexcept { return open_; }
    [[nodiscard]] const Limits& limits() const noexcept { return limits_; }

   private:
    friend class Server;
    friend class SessionTicket;
    explicit Group(Limits limits) : limits_(std::move(limits)) {}
    Limits limits_;
    std::size_t open_ = 0;
  };

  template <class Socket>
  using Handler = std::function<asio::awaitable<void>(Socket socket, SessionTicket ticket)>;

  Server(asio::any_io_executor executor, std::chrono::milliseconds drain,
         std::chrono::milliseconds grace = std::chrono::seconds(1));
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  Group& group(Limits limits);

  // Accepts on `acceptor` (listening already) into `group`, one session per peer; `name`
  // names the listener in log lines.
  void accept(UnixAcceptor acceptor, std::string name, Group& group, Handler<UnixSocket> handler);
  void accept(asio::ip::tcp::acceptor acceptor, std::string name, Group& group, Handler<TcpSocket> handler);
  // Runs a session on a socket that did not come from a listener (one passed by another
  // daemon): counted in `group`, never refused.
  void start(Group& group, UnixSocket socket, Handler<UnixSocket> handler);
  // Runs `body` as a session of `group` that takes over from another (a relay after a finished
  // handshake, so that the handshake's frames end): counted, never refused.
  void start(Group& group, std::function<asio::awaitable<void>(SessionTicket)> body);

  // Stops accepting, drains, closes the rest; `done` runs once every session has ended (or
  // the grace after the drain ran out). Once only; later calls do nothing.
  void stop(std::function<void()> done);

  [[nodiscard]] bool stopping() const noexcept { return stopping_; }
  [[nodiscard]] std::size_t size() const noexcept;
  // Every open session (for a budget or an idle timeout that looks at all of them).
  void for_each(const std::function<void(Session&)>& visit);

 private:
  template <class Acceptor, class Socket>
  asio::awaitable<void> accept_loop(Acceptor& acceptor, std::string name, Group& group, Handler<Socket> handler);
  template <class Acceptor>
  asio::awaitable<void> wait_for_room(Acceptor& acceptor, const std::string& name, Group& group);
  // Closes the idlest session of `group` that may be shed; false when none may be yet.
  bool shed(Group& group, const std::string& name);
  // A session enters the registry; it leaves when its ticket goes.
  SessionTicket enter(Group& group);
  template <class Socket>
  void spawn(Group& group, const std::shared_ptr<Handler<Socket>>& handler, Socket socket);
  asio::awaitable<void> drain_then_close(std::function<void()> done);

  asio::any_io_executor executor_;
  std::chrono::milliseconds drain_;
  std::chrono::milliseconds grace_;
  std::shared_ptr<detail::SessionRegistry> state_;
  std::list<Group> groups_;
  std::list<UnixAcceptor> unix_acceptors_;
  std::list<asio::ip::tcp::acceptor> tcp_acceptors_;
  bool stopping_ = false;
};

}  // namespace ipc
