// fd passing for coroutines: the asynchronous twins of send_frame_with_fd / recv_frame_with_fd,
// on an Asio Unix socket, each bounded by a deadline (ipc::Error(timeout) when it passes).
//
// Both move exactly one frame and not a byte more, which matters where the same connection is
// then handed on: after ipcd reads a protocol daemon's "ok", the bytes behind it belong to the
// client that will receive this connection, so they must stay in the socket.
#pragma once

#include <chrono>
#include <string_view>

#include "ipc/asio.hpp"
#include "ipc/fd.hpp"

namespace ipc {

// Sends one frame with `fd` attached (fd < 0: none) in one sendmsg where the kernel takes it all.
asio::awaitable<void> async_send_frame_with_fd(UnixSocket& socket, const Message& message, int fd,
                                               std::chrono::milliseconds timeout);

// The same for raw bytes (at least one): the fd rides on the first byte.
asio::awaitable<void> async_send_with_fd(UnixSocket& socket, std::string_view bytes, int fd,
                                         std::chrono::milliseconds timeout);

// Takes the descriptor out of an Asio socket that is to be handed to another process. Closing
// the socket instead would leave the connection in this process's epoll set (epoll registers
// the open file description, which the receiver still holds; Asio skips EPOLL_CTL_DEL when it
// closes), and every byte the receiver gets would then wake this process. release() removes it
// first. The caller closes the descriptor once it has been sent. Invalid when it was not open.
template <class Socket>
[[nodiscard]] UniqueFd release_for_handoff(Socket& socket) {
  if (!socket.is_open()) return UniqueFd();
  boost::system::error_code ignored;
  return UniqueFd(socket.release(ignored));
}

// Receives one frame and at most one fd (MSG_CMSG_CLOEXEC; more, or MSG_CTRUNC: bad_request).
// EOF before a whole frame: ipc::Error(unavailable). Payload over the limit: too_large.
asio::awaitable<FrameWithFd> async_recv_frame_with_fd(UnixSocket& socket, std::size_t max_payload,
                                                      std::chrono::milliseconds timeout);

}  // namespace ipc
