// UniqueFd owns a file descriptor from the moment it exists, and the fd-passing primitives
// (SCM_RIGHTS) that move one between processes next to a frame.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ipc/message.hpp"

namespace ipc {

class UniqueFd {
 public:
  UniqueFd() noexcept = default;
  explicit UniqueFd(int fd) noexcept : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) reset(std::exchange(other.fd_, -1));
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { reset(); }

  [[nodiscard]] int get() const noexcept { return fd_; }
  [[nodiscard]] bool valid() const noexcept { return fd_ >= 0; }
  explicit operator bool() const noexcept { return valid(); }
  [[nodiscard]] int release() noexcept { return std::exchange(fd_, -1); }
  void reset(int fd = -1) noexcept;

 private:
  int fd_ = -1;
};

// Clears O_NONBLOCK on `fd` before it is handed to another process (DESIGN §15), so that the
// receiver gets it as a freshly connected socket would be: the original C libipc reads with
// plain blocking recv(). O_NONBLOCK lives on the open file description, which SCM_RIGHTS
// shares, so call this only on an fd this process gives away (an Asio socket it keeps would
// block its event loop). Throws ipc::Error(internal).
void make_blocking(int fd);

// Blocking code's wait (the synchronous client, fd passing): until `fd` is ready for `events`
// (POLLIN, POLLOUT) or `deadline` passes, which throws ipc::Error(timeout, `timeout_text`).
void wait_for(int fd, short events, std::chrono::steady_clock::time_point deadline, const std::string& timeout_text);

// The supplementary groups the peer of Unix socket `fd` had when it connected (SO_PEERGROUPS),
// as the kernel knows them: no name-service lookup, nothing that can block. Empty when the
// kernel does not say.
[[nodiscard]] std::vector<gid_t> peer_groups(int fd);

// Sends one whole frame on a connected Unix stream socket with `fd` attached (SCM_RIGHTS),
// in one sendmsg so the fd travels with the frame's first byte. `fd` < 0 sends no fd.
// Blocking: on a non-blocking socket EAGAIN is retried after poll(), bounded by `timeout_ms`.
// Throws ipc::Error(internal / timeout) on failure.
void send_frame_with_fd(int socket, const Message& message, int fd, int timeout_ms = 10000);

// What recv_frame_with_fd() got.
struct FrameWithFd {
  Message message;
  UniqueFd fd;  // invalid when the frame carried none
};

// Receives exactly one frame (and not a byte more) from a Unix stream socket with recvmsg and a
// control buffer, collecting at most one passed fd (MSG_CMSG_CLOEXEC). More than one fd, or a
// truncated control message (MSG_CTRUNC), is a protocol error: every fd received is closed and
// ipc::Error(bad_request) thrown. EOF before a whole frame throws ipc::Error(unavailable).
// A payload over `max_payload` throws ipc::Error(too_large). Waits at most `timeout_ms`.
[[nodiscard]] FrameWithFd recv_frame_with_fd(int socket, std::size_t max_payload = default_max_payload,
                                             int timeout_ms = 10000);

// Low level: one recvmsg() of up to buffer.size() bytes; the fds that came with it are appended
// to `fds` (owned, close-on-exec). A truncated control message (MSG_CTRUNC: more fds than fit)
// closes them all and throws ipc::Error(bad_request). Returns the byte count (0 at EOF) or -1
// with errno set (e.g. EAGAIN).
// `flags` are added to recvmsg's (e.g. MSG_DONTWAIT).
[[nodiscard]] long recv_with_fds(int socket, std::span<char> buffer, std::vector<UniqueFd>& fds, int flags = 0);

// Low level: one non-blocking sendmsg() of `bytes` with `fd` attached (fd < 0: none).
// Returns the byte count or -1 with errno set (EAGAIN when the socket is full).
[[nodiscard]] long send_with_fd(int socket, std::string_view bytes, int fd);

// Collects exactly one frame, and at most one fd, from successive non-blocking recvmsg()s:
// first the header, then exactly the payload, so whatever follows stays in the socket. The
// blocking and the asynchronous receivers differ only in how they wait between calls.
class OneFrameReader {
 public:
  explicit OneFrameReader(std::size_t max_payload) : max_payload_(max_payload), bytes_(header_size, '\0') {}
  // One recvmsg(). True when the frame is complete; false when the socket has nothing now
  // (wait until it is readable). Throws ipc::Error: unavailable at EOF, too_large, bad_request
  // for more than one fd.
  [[nodiscard]] bool read_some(int socket);
  [[nodiscard]] bool done() const noexcept { return header_done_ && have_ == bytes_.size(); }
  [[nodiscard]] FrameWithFd take();

 private:
  std::size_t max_payload_;
  std::string bytes_;
  std::size_t have_ = 0;
  bool header_done_ = false;
  std::vector<UniqueFd> fds_;
};

}  // namespace ipc
