// Deadline: the one way libipc and the daemons bound a read, a write, a connect or a handshake.
//
// Two forms. Bound to operations (the usual one): an operation started with deadline.bind(token)
// is cancelled by itself when the time is up (Asio's per-operation cancellation), and nothing
// else on the same socket is touched: a reader's deadline never aborts a concurrent writer.
// With an action: `expire` runs when the time is up, for what cannot be bound (a Beast
// operation, a whole handshake): typically it shuts the socket down.
//
// Either way it is safe against the race every timer-based deadline has: when the operation
// completes as the timer fires, the timer's handler may already be queued (cancel() cannot take
// it back). It then finds the Deadline gone, or extended, and does nothing; it never reaches a
// later operation or a socket that is gone.
//
//   ipc::Deadline deadline(socket.get_executor(), timeout);
//   auto [ec, n] = co_await socket.async_read_some(buffer, deadline.bind(ipc::use_nothrow));
//   if (deadline.expired()) ...
#pragma once

#include <sys/socket.h>

#include <array>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>

#include "ipc/asio.hpp"

namespace ipc {

class Deadline {
 public:
  using Clock = std::chrono::steady_clock;

  // Cancels the operations started with bind() when `timeout` has passed.
  Deadline(const asio::any_io_executor& executor, std::chrono::milliseconds timeout);
  // Runs `expire` (once) when `timeout` has passed. With `progressed`, asked each time the
  // timeout passes: true (the peer moved since it was last asked) starts the timeout again, for
  // an operation whose progress only the kernel sees (a Beast write of a large message).
  Deadline(const asio::any_io_executor& executor, std::chrono::milliseconds timeout, std::function<void()> expire,
           std::function<bool()> progressed = nullptr);
  ~Deadline();
  Deadline(const Deadline&) = delete;
  Deadline& operator=(const Deadline&) = delete;

  // `token` (use_nothrow, use_awaitable) with this deadline's cancellation slot. One operation
  // at a time: the next one may be bound once the last has completed.
  template <class Token>
  [[nodiscard]] auto bind(Token token) {
    return asio::bind_cancellation_slot(state_->signal.slot(), std::move(token));
  }

  // Starts `timeout` again from now (a slow peer made progress). Not after it expired.
  void extend(std::chrono::milliseconds timeout);
  [[nodiscard]] bool expired() const noexcept { return state_->expired; }

 private:
  struct State {
    bool expired = false;
    unsigned generation = 0;  // a handler armed for an older one is stale
    asio::cancellation_signal signal;
    std::function<void()> expire;
    std::function<bool()> progressed;
    std::chrono::milliseconds timeout{};
  };
  void arm(std::chrono::milliseconds timeout);
  static void arm(asio::steady_timer& timer, const std::shared_ptr<State>& state, std::chrono::milliseconds timeout);

  asio::steady_timer timer_;
  std::shared_ptr<State> state_;
};

// Waits until `socket` is ready for `what` (wait_read, wait_write): asio::error::timed_out when
// `timeout` passes first (0: no limit), the wait's own error otherwise. Only this wait is
// cancelled: the socket's other operations go on.
template <class Socket>
asio::awaitable<boost::system::error_code> wait_ready(Socket& socket, typename Socket::wait_type what,
                                                      std::chrono::milliseconds timeout) {
  if (timeout.count() == 0) {
    auto [ec] = co_await socket.async_wait(what, use_nothrow);
    co_return ec;
  }
  Deadline deadline(socket.get_executor(), timeout);
  auto [ec] = co_await socket.async_wait(what, deadline.bind(use_nothrow));
  if (deadline.expired()) co_return asio::error::timed_out;
  co_return ec;
}

// The action form for a whole exchange on one socket (a handshake): when the time is up every
// operation on `socket` is cancelled. For a socket that nothing else uses meanwhile.
template <class Socket>
[[nodiscard]] Deadline cancelling(Socket& socket, std::chrono::milliseconds timeout) {
  return Deadline(socket.get_executor(), timeout, [&socket] {
    boost::system::error_code ignored;
    socket.cancel(ignored);
  });
}

// The end of a connection whose last word has been said: closing it with the peer's bytes unread
// would make the kernel answer with a reset that can overtake that word. So: shut down sending,
// then take what still comes, within `timeout` and `max_bytes`; the caller closes afterwards.
template <class Socket>
asio::awaitable<void> async_linger(Socket& socket, std::chrono::milliseconds timeout, std::size_t max_bytes) {
  ::shutdown(socket.native_handle(), SHUT_WR);
  const auto deadline = cancelling(socket, timeout);
  std::array<char, 4096> sink;
  for (std::size_t drained = 0; drained < max_bytes;) {
    auto [ec, n] = co_await socket.async_read_some(asio::buffer(sink), use_nothrow);
    if (ec) break;
    drained += n;
  }
}

}  // namespace ipc
