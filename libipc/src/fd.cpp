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

#include <fcntl.h>
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

void make_blocking(int fd) {
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0 || ((flags & O_NONBLOCK) != 0 && ::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) != 0))
    throw Error(ErrorCode::internal, std::string("cannot make a handed-over fd blocking: ") + std::strerror(errno));
}

using Clock = std::chrono::steady_clock;

long send_with_fd(int socket, std::string_view bytes, int fd) {
  iovec iov{const_cast<char*>(bytes.data()), bytes.size()};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  if (fd >= 0) {
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
  }
  ssize_t n;
  do {
    n = ::sendmsg(socket, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
  } while (n < 0 && errno == EINTR);
  return static_cast<long>(n);
}

void send_frame_with_fd(int socket, const Message& message, int fd, int timeout_ms) {
  const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  const std::string frame = encode(message);
  std::size_t sent = 0;
  while (sent < frame.size()) {
    // The fd rides on the frame's first byte; what is left goes without it.
    const long n = send_with_fd(socket, std::string_view(frame).substr(sent), sent == 0 ? fd : -1);
    if (n >= 0) {
      sent += static_cast<std::size_t>(n);
    } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
      wait_for(socket, POLLOUT, deadline, "peer did not answer in time");
    } else {
      throw Error(ErrorCode::unavailable, std::string("sendmsg: ") + std::strerror(errno));
    }
  }
}

long recv_with_fds(int socket, std::span<char> buffer, std::vector<UniqueFd>& fds, int flags) {
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
    n = ::recvmsg(socket, &msg, MSG_CMSG_CLOEXEC | flags);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return -1;
  const std::size_t before = fds.size();
  std::size_t arrived = 0;
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    const std::size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (std::size_t i = 0; i < count; ++i) {
      int fd;
      std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
      fds.emplace_back(fd);
      ++arrived;
    }
  }
  if (msg.msg_flags & MSG_CTRUNC) {
    fds.resize(before);  // closes what did arrive
    // The kernel truncates for two reasons: more descriptors than the buffer holds (the peer's
    // doing), or this process at its RLIMIT_NOFILE, when the kernel installs fewer than it
    // could have (ours: the peer did nothing wrong, and must not be told it did).
    if (arrived < max_fds)
      throw Error(ErrorCode::internal, "a passed file descriptor was lost: this process is out of file descriptors");
    throw Error(ErrorCode::bad_request, "too many file descriptors passed (control message truncated)");
  }
  return static_cast<long>(n);
}

bool OneFrameReader::read_some(int socket) {
  if (done()) return true;
  const long n = recv_with_fds(socket, std::span<char>(bytes_.data() + have_, bytes_.size() - have_), fds_,
                               MSG_DONTWAIT);
  if (fds_.size() > 1) throw Error(ErrorCode::bad_request, "more than one file descriptor passed with a frame");
  if (n == 0) throw Error(ErrorCode::unavailable, "connection closed before a whole frame arrived");
  if (n < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) return false;
    throw Error(ErrorCode::unavailable, std::string("recvmsg: ") + std::strerror(errno));
  }
  have_ += static_cast<std::size_t>(n);
  if (have_ == header_size && bytes_.size() == header_size) {
    // The header is in: now exactly the payload, and not a byte of whatever follows.
    const FrameHeader header = decode_header(bytes_.data());
    if (header.length > max_payload_)
      throw Error(ErrorCode::too_large, "frame of " + std::to_string(header.length) + " bytes exceeds the limit of " +
                                            std::to_string(max_payload_));
    bytes_.resize(header_size + header.length);
    header_done_ = true;
  }
  return done();
}

FrameWithFd OneFrameReader::take() {
  const FrameHeader header = decode_header(bytes_.data());
  FrameWithFd out;
  out.message.type = static_cast<MessageType>(header.type);
  out.message.user_type = header.user_type;
  out.message.payload = bytes_.substr(header_size);
  if (!fds_.empty()) out.fd = std::move(fds_.front());
  return out;
}

FrameWithFd recv_frame_with_fd(int socket, std::size_t max_payload, int timeout_ms) {
  const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  OneFrameReader reader(max_payload);
  while (!reader.read_some(socket)) wait_for(socket, POLLIN, deadline, "peer did not answer in time");
  return reader.take();
}

std::vector<gid_t> peer_groups(int fd) {
  std::vector<gid_t> groups(32);
  for (int attempt = 0; attempt < 2; ++attempt) {
    auto length = static_cast<socklen_t>(groups.size() * sizeof(gid_t));
    if (::getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups.data(), &length) == 0) {
      groups.resize(length / sizeof(gid_t));
      return groups;
    }
    // ERANGE: `length` says how much it takes (NGROUPS_MAX is 65536).
    if (errno != ERANGE || length / sizeof(gid_t) > 65536) break;
    groups.resize(length / sizeof(gid_t));
  }
  return {};
}

void wait_for(int fd, short events, std::chrono::steady_clock::time_point deadline, const std::string& timeout_text) {
  for (;;) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) throw Error(ErrorCode::timeout, timeout_text);
    pollfd p{fd, events, 0};
    const int r = ::poll(&p, 1, static_cast<int>(left.count()));
    if (r > 0) return;
    if (r < 0 && errno != EINTR) throw Error(ErrorCode::internal, std::string("poll: ") + std::strerror(errno));
  }
}

}  // namespace ipc
