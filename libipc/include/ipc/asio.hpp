// The Boost.Asio names libipc and the daemons use, in one place.
#pragma once

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace ipc {

namespace asio = boost::asio;
using UnixSocket = asio::local::stream_protocol::socket;
using UnixAcceptor = asio::local::stream_protocol::acceptor;

// co_await x.async_foo(..., use_nothrow) gives a tuple (error_code, results...): expected errors
// (EOF, a peer gone, a refused connect) stay values instead of exceptions.
inline constexpr auto use_nothrow = asio::as_tuple(asio::use_awaitable);

// A steady_timer used as a condition variable: waiters wait on it, notify_all() wakes them all.
class Signal {
 public:
  explicit Signal(const asio::any_io_executor& executor) : timer_(executor, asio::steady_timer::time_point::max()) {}
  asio::awaitable<void> wait() { co_await timer_.async_wait(use_nothrow); }
  void notify_all() { timer_.cancel(); }

 private:
  asio::steady_timer timer_;
};

}  // namespace ipc
