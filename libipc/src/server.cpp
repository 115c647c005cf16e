// The session runner: accept loops, the registry of sessions, caps, shedding, the drain (see server.hpp).
#include "ipc/server.hpp"

#include <algorithm>
#include <utility>
#include <vector>

#include <boost/asio/experimental/awaitable_operators.hpp>

#include "ipc/log.hpp"
#include "ipc/text.hpp"

namespace ipc {

using namespace asio::experimental::awaitable_operators;

namespace detail {

struct SessionEntry {
  Session session;
  Server::Group* group;
  std::list<SessionEntry>::iterator self;
};

// What sessions touch when they end: it outlives the Server when the io_context destroys their
// frames after it (a daemon's shutdown), and `alive` says so.
struct SessionRegistry {
  bool alive = true;
  std::list<SessionEntry> sessions;
  Signal ended;
  explicit SessionRegistry(const asio::any_io_executor& executor) : ended(executor) {}
};

}  // namespace detail

namespace {

// How a session's coroutine ends: an exception that escaped its handler is logged, and the
// Server serves on. `Keep` is held until then (what the coroutine refers to).
template <class Keep>
auto log_failure(Keep keep) {
  return [keep = std::move(keep)](std::exception_ptr failure) {
    if (!failure) return;
    try {
      std::rethrow_exception(failure);
    } catch (const std::exception& e) {
      log_error("internal error in a session: ", e.what());
    }
  };
}

// The open sessions, as pointers: hooks are called on a snapshot, not while walking the list.
std::vector<Session*> snapshot(std::list<detail::SessionEntry>& sessions) {
  std::vector<Session*> open;
  for (auto& entry : sessions) open.push_back(&entry.session);
  return open;
}

// Waits until no session is left or `deadline` expires; false when it expired first.
asio::awaitable<bool> wait_until_empty(detail::SessionRegistry& state, asio::steady_timer& deadline) {
  while (!state.sessions.empty()) {
    auto woke = co_await (state.ended.wait() || deadline.async_wait(use_nothrow));
    if (woke.index() == 1) co_return false;
  }
  co_return true;
}

}  // namespace

SessionTicket::SessionTicket(SessionTicket&& other) noexcept
    : registry_(std::move(other.registry_)),
      entry_(std::exchange(other.entry_, nullptr)),
      session_(std::exchange(other.session_, nullptr)) {}

SessionTicket::~SessionTicket() {
  if (entry_ == nullptr || !registry_->alive) return;
  --entry_->group->open_;
  registry_->sessions.erase(entry_->self);
  registry_->ended.notify_all();
}

Server::Server(asio::any_io_executor executor, std::chrono::milliseconds drain, std::chrono::milliseconds grace)
    : executor_(std::move(executor)), drain_(drain), grace_(grace),
      state_(std::make_shared<detail::SessionRegistry>(executor_)) {}

Server::~Server() { state_->alive = false; }

Server::Group& Server::group(Limits limits) { return groups_.emplace_back(Group(std::move(limits))); }

void Server::accept(UnixAcceptor acceptor, std::string name, Group& group, Handler<UnixSocket> handler) {
  auto& owned = unix_acceptors_.emplace_back(std::move(acceptor));
  asio::co_spawn(executor_, accept_loop<UnixAcceptor, UnixSocket>(owned, std::move(name), group, std::move(handler)),
                 asio::detached);
}

void Server::accept(asio::ip::tcp::acceptor acceptor, std::string name, Group& group, Handler<TcpSocket> handler) {
  auto& owned = tcp_acceptors_.emplace_back(std::move(acceptor));
  asio::co_spawn(executor_,
                 accept_loop<asio::ip::tcp::acceptor, TcpSocket>(owned, std::move(name), group, std::move(handler)),
                 asio::detached);
}

template <class Acceptor, class Socket>
asio::awaitable<void> Server::accept_loop(Acceptor& acceptor, std::string name, Group& group, Handler<Socket> handler) {
  // Shared with the sessions, which may outlive this loop (it ends at stop, they drain).
  const auto shared = std::make_shared<Handler<Socket>>(std::move(handler));
  asio::steady_timer backoff(executor_);
  while (!stopping_) {
    if (group.open_ >= group.limits_.max_sessions) {
      co_await wait_for_room(acceptor, name, group);
      continue;
    }
    auto [ec, socket] = co_await acceptor.async_accept(use_nothrow);
    if (ec == asio::error::operation_aborted || stopping_) break;
    if (ec) {
      // EMFILE/ENFILE and friends: the peer stays in the backlog; wait a little instead of
      // spinning on the error.
      log_warn("accept on ", name, ": ", ec.message());
      backoff.expires_after(std::chrono::milliseconds(100));
      co_await backoff.async_wait(use_nothrow);
      continue;
    }
    spawn<Socket>(group, shared, std::move(socket));
  }
}

// At the cap: waits until a session of any group ends (there may be room then), or a peer is
// waiting and a session can be shed for it.
template <class Acceptor>
asio::awaitable<void> Server::wait_for_room(Acceptor& acceptor, const std::string& name, Group& group) {
  if (group.limits_.shed_idle_after.count() == 0) {
    co_await state_->ended.wait();
    co_return;
  }
  // A peer waits in the backlog when the listener is readable.
  auto woke = co_await (state_->ended.wait() || acceptor.async_wait(Acceptor::wait_read, use_nothrow));
  if (woke.index() == 0 || stopping_) co_return;
  if (!std::get<0>(std::get<1>(woke))) {
    if (shed(group, name)) {
      co_await state_->ended.wait();
      co_return;
    }
  }
  // Nobody may be shed yet (or the wait failed): look again a little later.
  asio::steady_timer again(executor_);
  again.expires_after(std::max(group.limits_.shed_idle_after / 4, std::chrono::milliseconds(10)));
  co_await (state_->ended.wait() || again.async_wait(use_nothrow));
}

bool Server::shed(Group& group, const std::string& name) {
  Session* idlest = nullptr;
  Session::Clock::time_point since{};
  for (auto& entry : state_->sessions) {
    if (entry.group != &group) continue;
    Session& session = entry.session;
    if (session.closing_) return false;  // one is ending already: its end makes room
    if (!session.idle_since || !session.close) continue;
    const auto idle = session.idle_since();
    if (!idle) continue;
    if (idlest == nullptr || *idle < since) {
      idlest = &session;
      since = *idle;
    }
  }
  if (idlest == nullptr) return false;
  const auto idle = std::chrono::duration_cast<std::chrono::milliseconds>(Session::Clock::now() - since);
  if (idle < group.limits_.shed_idle_after) return false;
  const Error why(ErrorCode::unavailable, "closed to make room for a new connection: idle for " + seconds_text(idle) +
                                              " while all " + std::to_string(group.limits_.max_sessions) +
                                              " connections were taken (" + group.limits_.cap_flag + ")");
  log_info(name, ": ", why.text());
  idlest->closing_ = true;
  idlest->close(&why);
  return true;
}

void Server::start(Group& group, UnixSocket socket, Handler<UnixSocket> handler) {
  spawn<UnixSocket>(group, std::make_shared<Handler<UnixSocket>>(std::move(handler)), std::move(socket));
}

void Server::start(Group& group, std::function<asio::awaitable<void>(SessionTicket)> body) {
  // Kept with the completion handler, as long as the coroutine (a coroutine lambda's captures
  // live in it).
  auto kept = std::make_shared<std::function<asio::awaitable<void>(SessionTicket)>>(std::move(body));
  asio::co_spawn(executor_, (*kept)(enter(group)), log_failure(kept));
}

SessionTicket Server::enter(Group& group) {
  auto& entry = state_->sessions.emplace_back();
  entry.group = &group;
  entry.self = std::prev(state_->sessions.end());
  ++group.open_;
  return SessionTicket(state_, &entry, &entry.session);
}

template <class Socket>
void Server::spawn(Group& group, const std::shared_ptr<Handler<Socket>>& handler, Socket socket) {
  // The handler's coroutine is the session's frame, and holds its ticket. (`handler` stays
  // alive with the listener's loop or the Server; a copy of the pointer goes with the session,
  // which may outlive both during the drain.)
  asio::co_spawn(executor_, (*handler)(std::move(socket), enter(group)), log_failure(handler));
}

void Server::for_each(const std::function<void(Session&)>& visit) {
  for (auto& entry : state_->sessions) visit(entry.session);
}

std::size_t Server::size() const noexcept { return state_->sessions.size(); }

void Server::stop(std::function<void()> done) {
  if (stopping_) return;
  stopping_ = true;
  for (auto& acceptor : unix_acceptors_) {
    boost::system::error_code ignored;
    acceptor.close(ignored);
  }
  for (auto& acceptor : tcp_acceptors_) {
    boost::system::error_code ignored;
    acceptor.close(ignored);
  }
  state_->ended.notify_all();  // accept loops waiting for room see the stop
  for (Session* session : snapshot(state_->sessions))
    if (session->drain) session->drain();
  asio::co_spawn(executor_, drain_then_close(std::move(done)), asio::detached);
}

asio::awaitable<void> Server::drain_then_close(std::function<void()> done) {
  const auto state = state_;  // this coroutine may be the last to run before the Server goes
  asio::steady_timer deadline(executor_);
  deadline.expires_after(drain_);
  if (!co_await wait_until_empty(*state, deadline)) {
    log_info(state->sessions.size(), " sessions still open after the drain (", seconds_text(drain_),
             ", --drain): closing them");
    for (Session* session : snapshot(state->sessions)) {
      session->closing_ = true;
      if (session->close) session->close(nullptr);
    }
    deadline.expires_after(grace_);
    if (!co_await wait_until_empty(*state, deadline))
      log_warn(state->sessions.size(), " sessions did not end within ", seconds_text(grace_), " of being closed");
  }
  done();
}

}  // namespace ipc
