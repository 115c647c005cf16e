// Writing to a stream socket without a trip through the scheduler when the kernel takes the
// bytes at once, which on a Unix socket or loopback TCP with room in the send buffer is almost
// always. An Asio async_write that completes at once still posts its completion to the
// io_context, and the scheduler then runs an extra epoll_wait(0) before resuming the coroutine;
// a plain non-blocking send avoids both. Only when the kernel takes part (or nothing) does the
// rest go through async_write, which waits for room: the caller's backpressure is unchanged.
//
// With a stall timeout (--write-timeout), a peer that takes nothing for that long while bytes
// wait for it fails the write with asio::error::timed_out; every byte it takes starts the
// timeout again, so a slow but moving peer is never cut off.
#pragma once

#include <boost/asio/buffer.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <vector>

#include "ipc/asio.hpp"
#include "ipc/deadline.hpp"

namespace ipc {

// `buffers` by value: the coroutine keeps its own copy (a buffer sequence is a few pointers), so
// a caller may pass a temporary or return this awaitable from a plain function.
template <class Socket, class ConstBufferSequence>
asio::awaitable<boost::system::error_code> write_all(Socket& socket, ConstBufferSequence buffers,
                                                     std::chrono::milliseconds stall_timeout = {}) {
  boost::system::error_code ec;
  // Asio's sockets emulate blocking for synchronous calls unless told they are non-blocking.
  if (!socket.non_blocking()) socket.non_blocking(true, ec);
  const std::size_t total = asio::buffer_size(buffers);
  const std::size_t sent = ec ? 0 : socket.write_some(buffers, ec);  // MSG_NOSIGNAL: Asio adds it
  if (sent == total && !ec) co_return ec;
  if (ec && ec != asio::error::would_block && ec != asio::error::try_again) co_return ec;
  // The kernel took `sent` bytes: the rest waits for room.
  std::vector<asio::const_buffer> rest;
  std::size_t skip = sent;
  for (auto it = asio::buffer_sequence_begin(buffers); it != asio::buffer_sequence_end(buffers); ++it) {
    asio::const_buffer b(*it);
    if (skip >= b.size()) {
      skip -= b.size();
      continue;
    }
    rest.push_back(b + skip);
    skip = 0;
  }
  if (stall_timeout.count() == 0) {
    auto [error, n] = co_await asio::async_write(socket, rest, use_nothrow);
    co_return error;
  }
  Deadline deadline(socket.get_executor(), stall_timeout);
  std::size_t first = 0;  // rest[first] is the next buffer with bytes left
  while (first < rest.size()) {
    // (It may have expired while no write was pending, with nothing to cancel.)
    if (deadline.expired()) co_return asio::error::timed_out;
    auto [error, n] = co_await socket.async_write_some(
        std::vector<asio::const_buffer>(rest.begin() + static_cast<std::ptrdiff_t>(first), rest.end()),
        deadline.bind(use_nothrow));
    if (deadline.expired()) co_return asio::error::timed_out;
    if (error) co_return error;
    for (; first < rest.size() && n >= rest[first].size(); ++first) n -= rest[first].size();
    if (first < rest.size()) rest[first] += n;
    deadline.extend(stall_timeout);  // it took something: a moving peer
  }
  co_return boost::system::error_code();
}

}  // namespace ipc
