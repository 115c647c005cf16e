// UniqueFd and fd passing over Unix stream sockets (SCM_RIGHTS).
//
// Kernel corners this file handles:
// * The fd travels as ancillary data attached to the bytes of one sendmsg(); the receiver gets it
//   with the recvmsg() that returns the first of those bytes, so the frame and the fd are sent in
//   one call and read with recvmsg() (never read(), which would silently drop the fd).
// * MSG_CMSG_CLOEXEC makes received fds close-on-exec atomically, so a fork+exec elsewhere in the
//   process never leaks them.
// * When the control buffer is too small the kernel sets MSG_CTRUNC and closes the fds that did
//   not fit; we treat that as a protocol error and close the ones that did.
#include "ipc/fd.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "ipc/error.hpp"

namespace ipc {

void UniqueFd::reset(int fd) noexcept {
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
}

namespace {

using Clock = std::chrono::steady_clock;

// Waits for `events` on `fd` until `deadline`. Throws timeout.
void wait_for(int fd, short events, Clock::time_point deadline) {
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) throw Error(ErrorCode::timeout, "peer did not answer in time");
    pollfd p{fd, events, 0};
    const int r = ::poll(&p, 1, static_cast<int>(left.count()));
    if (r > 0) return;
    if (r < 0 && errno != EINTR) throw Error(ErrorCode::internal, std::string("poll: ") + std::strerror(errno));
  }
}

}  // namespace

void send_frame_with_fd(int socket, const Message& message, int fd, int timeout_ms) {
  const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  std::uint8_t header[header_size];
  encode_header(std::span<std::uint8_t, header_size>(header), message.type,
                static_cast<std::uint32_t>(message.payload.size()), message.user_type);
  iovec iov[2] = {{header, header_size},
                  {const_cast<char*>(message.payload.data()), message.payload.size()}};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msghdr msg{};
  msg.msg_iov = iov;
  msg.msg_iovlen = message.payload.empty() ? 1 : 2;
  if (fd >= 0) {
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
  }
  std::size_t total = header_size + message.payload.size();
  std::size_t sent = 0;
  while (sent < total) {
    const ssize_t n = ::sendmsg(socket, &msg, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        wait_for(socket, POLLOUT, deadline);
        continue;
      }
      throw Error(ErrorCode::unavailable, std::string("sendmsg: ") + std::strerror(errno));
    }
    sent += static_cast<std::size_t>(n);
    // The fd went with the first byte; what is left goes without it.
    msg.msg_control = nullptr;
    msg.msg_controllen = 0;
    std::size_t skip = static_cast<std::size_t>(n);
    while (msg.msg_iovlen > 0 && skip >= msg.msg_iov[0].iov_len) {
      skip -= msg.msg_iov[0].iov_len;
      ++msg.msg_iov;
      --msg.msg_iovlen;
    }
    if (msg.msg_iovlen > 0) {
      msg.msg_iov[0].iov_base = static_cast<char*>(msg.msg_iov[0].iov_base) + skip;
      msg.msg_iov[0].iov_len -= skip;
    }
  }
}

long recv_with_fds(int socket, std::span<char> buffer, std::vector<UniqueFd>& fds) {
  constexpr std::size_t max_fds = 8;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * max_fds)];
  iovec iov{buffer.data(), buffer.size()};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  ssize_t n;
  do {
    n = ::recvmsg(socket, &msg, MSG_CMSG_CLOEXEC);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return -1;
  const std::size_t before = fds.size();
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    const std::size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (std::size_t i = 0; i < count; ++i) {
      int fd;
      std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
      fds.emplace_back(fd);
    }
  }
  if (msg.msg_flags & MSG_CTRUNC) {
    fds.resize(before);  // closes what did arrive
    throw Error(ErrorCode::bad_request, "too many file descriptors passed (control message truncated)");
  }
  return static_cast<long>(n);
}

FrameWithFd recv_frame_with_fd(int socket, std::size_t max_payload, int timeout_ms) {
  const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  std::vector<UniqueFd> fds;
  std::string bytes(header_size, '\0');
  std::size_t have = 0;
  // Reads exactly bytes.size() bytes, so nothing past this frame is consumed.
  auto fill = [&] {
    while (have < bytes.size()) {
      // Poll first so the deadline also holds on a blocking socket.
      wait_for(socket, POLLIN, deadline);
      const long n = recv_with_fds(socket, std::span<char>(bytes.data() + have, bytes.size() - have), fds);
      if (fds.size() > 1) throw Error(ErrorCode::bad_request, "more than one file descriptor passed with a frame");
      if (n == 0) throw Error(ErrorCode::unavailable, "connection closed before a whole frame arrived");
      if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK) continue;
        throw Error(ErrorCode::unavailable, std::string("recvmsg: ") + std::strerror(errno));
      }
      have += static_cast<std::size_t>(n);
    }
  };
  fill();
  const FrameHeader header = decode_header(bytes.data());
  const std::uint32_t length = header.length;
  if (length > max_payload)
    throw Error(ErrorCode::too_large, "frame of " + std::to_string(length) + " bytes exceeds the limit of " +
                                          std::to_string(max_payload));
  bytes.resize(header_size + length);
  fill();
  FrameWithFd out;
  out.message.type = static_cast<MessageType>(header.type);
  out.message.user_type = header.user_type;
  out.message.payload = bytes.substr(header_size);
  if (!fds.empty()) out.fd = std::move(fds.front());
  return out;
}

}  // namespace ipc
