// Asynchronous fd passing (see fd_async.hpp): non-blocking sendmsg/recvmsg, waiting for
// readiness through Asio between attempts, under one deadline per call.
#include "ipc/fd_async.hpp"

#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include "ipc/deadline.hpp"
#include "ipc/error.hpp"

namespace ipc {
namespace {

using Clock = std::chrono::steady_clock;

// Waits until `socket` is ready for `what`, or throws timeout at `deadline`.
asio::awaitable<void> wait_until_ready(UnixSocket& socket, UnixSocket::wait_type what, Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  if (left.count() <= 0) throw Error(ErrorCode::timeout, "the peer did not answer in time");
  const auto ec = co_await wait_ready(socket, what, left);
  if (ec == asio::error::timed_out) throw Error(ErrorCode::timeout, "the peer did not answer in time");
  if (ec) throw Error(ErrorCode::unavailable, "connection failed: " + ec.message());
}

}  // namespace

asio::awaitable<void> async_send_frame_with_fd(UnixSocket& socket, const Message& message, int fd,
                                               std::chrono::milliseconds timeout) {
  const std::string frame = encode(message);
  co_await async_send_with_fd(socket, frame, fd, timeout);
}

asio::awaitable<void> async_send_with_fd(UnixSocket& socket, std::string_view bytes, int fd,
                                         std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  std::size_t sent = 0;
  while (sent < bytes.size()) {
    // The fd rides on the first byte; what is left goes without it.
    const long n = send_with_fd(socket.native_handle(), bytes.substr(sent), sent == 0 ? fd : -1);
    if (n >= 0) {
      sent += static_cast<std::size_t>(n);
    } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
      co_await wait_until_ready(socket, UnixSocket::wait_write, deadline);
    } else {
      throw Error(ErrorCode::unavailable, std::string("sendmsg: ") + std::strerror(errno));
    }
  }
}

asio::awaitable<FrameWithFd> async_recv_frame_with_fd(UnixSocket& socket, std::size_t max_payload,
                                                      std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  OneFrameReader reader(max_payload);
  while (!reader.read_some(socket.native_handle())) co_await wait_until_ready(socket, UnixSocket::wait_read, deadline);
  co_return reader.take();
}

}  // namespace ipc
