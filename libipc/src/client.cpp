// Connecting to services and the blocking client.
#include "ipc/client.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>

#include "ipc/broker.hpp"
#include "ipc/error.hpp"
#include "ipc/network.hpp"

namespace ipc {
namespace {

using Clock = std::chrono::steady_clock;


timeval to_timeval(std::chrono::milliseconds timeout) {
  timeout = std::max(timeout, std::chrono::milliseconds(1));  // 0 would mean "no timeout at all"
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(timeout.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((timeout.count() % 1000) * 1000);
  return tv;
}

void set_send_timeout(int fd, std::chrono::milliseconds timeout) {
  const timeval tv = to_timeval(timeout);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

// Back to "no send timeout" (a zero timeval; to_timeval never gives one).
void clear_send_timeout(int fd) {
  const timeval tv{};
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

sockaddr_un unix_address(const std::filesystem::path& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.native().size() >= sizeof addr.sun_path)
    throw Error(ErrorCode::bad_request, "socket path " + path.string() + " is too long");
  std::memcpy(addr.sun_path, path.c_str(), path.native().size() + 1);
  return addr;
}

UniqueFd unix_socket(int flags) {
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | flags, 0));
  if (!fd) {
    if (errno == EMFILE || errno == ENFILE)
      throw Error(ErrorCode::internal, "cannot open a socket: this process is out of file descriptors");
    throw Error(ErrorCode::internal, std::string("socket: ") + std::strerror(errno));
  }
  return fd;
}

// One connect(); 0 or the errno.
int connect_once(int fd, const sockaddr_un& addr) {
  int rc;
  do {
    rc = ::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
  } while (rc != 0 && errno == EINTR);
  return rc == 0 ? 0 : errno;
}

// The socket file at `path` itself, never what a symbolic link there points to. ipcd and the
// daemons connect for others (a connection ipcd opens carries ipcd's uid), and RUNDIR lets its
// members create names: a link `RUNDIR/x` to `RUNDIR/tcp`, `RUNDIR/ipc`, `RUNDIR/pong@adopt` or a
// socket elsewhere would lend them ipcd's uid there. So the file is opened without following a
// link (O_PATH | O_NOFOLLOW), checked to be a socket, and connected through /proc/self/fd/N,
// which reaches exactly that inode (no window for the name to change in between).
struct SocketFile {
  UniqueFd handle;   // O_PATH
  sockaddr_un address{};
};

SocketFile open_socket_file(const std::filesystem::path& path) {
  SocketFile file;
  file.address = unix_address(path);  // (its length check)
  file.handle = UniqueFd(::open(path.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
  if (!file.handle) {
    if (errno == ENOENT || errno == ENOTDIR) throw Error(ErrorCode::not_found, "no service answers on " + path.string());
    throw Error(ErrorCode::unavailable, "cannot open " + path.string() + ": " + std::strerror(errno));
  }
  struct stat st{};
  if (::fstat(file.handle.get(), &st) != 0)
    throw Error(ErrorCode::unavailable, "cannot stat " + path.string() + ": " + std::strerror(errno));
  if (S_ISLNK(st.st_mode))
    throw Error(ErrorCode::denied, path.string() + " is a symbolic link: only a socket file itself is connected to");
  if (!S_ISSOCK(st.st_mode)) throw Error(ErrorCode::not_found, path.string() + " is not a socket");
  // Without /proc (a chroot), the path itself: checked above, if not atomically.
  static const bool have_proc = ::access("/proc/self/fd", F_OK) == 0;  // asked once per process
  if (have_proc) file.address = unix_address("/proc/self/fd/" + std::to_string(file.handle.get()));
  return file;
}

// What a failed connect() to `path` means to the caller (EAGAIN: the listener's backlog stayed
// full for the whole timeout).
Error connect_failure(const std::filesystem::path& path, int error) {
  if (error == ENOENT || error == ECONNREFUSED) return Error(ErrorCode::not_found, "no service answers on " + path.string());
  if (error == EAGAIN) return Error(ErrorCode::timeout, path.string() + " did not accept the connection in time");
  return Error(ErrorCode::unavailable, "cannot connect to " + path.string() + ": " + std::strerror(error));
}

}  // namespace

UniqueFd connect_unix(const std::filesystem::path& path, std::chrono::milliseconds timeout) {
  const SocketFile file = open_socket_file(path);
  UniqueFd fd = unix_socket(0);
  // A Unix connect() only blocks while the listener's backlog is full, and for that wait the
  // kernel honours SO_SNDTIMEO (a non-blocking connect would just fail with EAGAIN).
  set_send_timeout(fd.get(), timeout);
  if (const int error = connect_once(fd.get(), file.address); error != 0) throw connect_failure(path, error);
  clear_send_timeout(fd.get());
  return fd;
}

// The IPC_NETWORK text for a connection (checked: an invalid one is bad-request before
// anything is contacted).
static std::string network_text(const ConnectOptions& options) {
  std::string text;
  if (options.network) {
    text = *options.network;
  } else if (const char* env = std::getenv("IPC_NETWORK")) {
    text = env;
  }
  (void)NetworkRoutes::parse(text);
  return text;
}

// ipcd is not running: a service that IPC_NETWORK routes elsewhere must not silently go local.
static void refuse_if_routed(const ServiceName& service, const std::string& routes, const std::filesystem::path& rundir) {
  const auto parsed = NetworkRoutes::parse(routes);
  if (const Uri* uri = parsed.find(service))
    throw Error(ErrorCode::unavailable, "ipcd is not running (nothing answers on " +
                                            socket_path(rundir, ServiceName(broker_socket)).string() +
                                            ") and IPC_NETWORK routes " + service.str() + " to " + uri->str() +
                                            ": not going to the local one instead");
}

UniqueFd connect(const ServiceName& service, const ConnectOptions& options) {
  if (!options.direct) {
    const std::string routes = network_text(options);
    if (auto broker = connect_broker(options.rundir, options.timeout))
      return lookup(std::move(*broker), service, routes, options.timeout);
    refuse_if_routed(service, routes, options.rundir);
  }
  return connect_unix(socket_path(options.rundir, service), options.timeout);
}

asio::awaitable<UnixSocket> async_connect(ServiceName service, ConnectOptions options) {
  if (!options.direct) {
    const std::string routes = network_text(options);
    auto broker = co_await async_connect_broker(options.rundir, options.timeout);
    if (broker) co_return co_await async_lookup(std::move(*broker), service, routes, options.timeout);
    refuse_if_routed(service, routes, options.rundir);
  }
  co_return co_await async_connect_unix(socket_path(options.rundir, service), options.timeout);
}

namespace {

// A non-blocking connect to `path`, as a coroutine. A Unix connect() completes at once or, while
// the listener's backlog is full, fails with EAGAIN; no event says when room is made (a blocking
// connect sleeps in the kernel for it, and Asio's async_connect takes the EAGAIN for "in
// progress" and reports success on a socket that is not connected). So it tries again, after
// 1 ms, then twice as long each time up to 50 ms, until the timeout.
asio::awaitable<UniqueFd> connect_nonblocking(const std::filesystem::path& path, std::chrono::milliseconds timeout) {
  const SocketFile file = open_socket_file(path);
  const sockaddr_un& addr = file.address;
  const auto deadline = Clock::now() + timeout;
  std::optional<asio::steady_timer> pause;
  auto backoff = std::chrono::milliseconds(1);
  for (;;) {
    UniqueFd fd = unix_socket(SOCK_NONBLOCK);
    const int error = connect_once(fd.get(), addr);
    if (error == 0) co_return fd;
    if (error != EAGAIN) throw connect_failure(path, error);
    if (Clock::now() + backoff > deadline) throw connect_failure(path, EAGAIN);
    if (!pause) pause.emplace(co_await asio::this_coro::executor);
    pause->expires_after(backoff);
    co_await pause->async_wait(use_nothrow);
    backoff = std::min(backoff * 2, std::chrono::milliseconds(50));
  }
}

}  // namespace

asio::awaitable<UnixSocket> async_connect_unix(std::filesystem::path path, std::chrono::milliseconds timeout) {
  UniqueFd fd = co_await connect_nonblocking(path, timeout);
  UnixSocket socket(co_await asio::this_coro::executor);
  socket.assign(asio::local::stream_protocol(), fd.release());
  co_return socket;
}

asio::awaitable<UniqueFd> async_connect_unix_fd(std::filesystem::path path, std::chrono::milliseconds timeout) {
  UniqueFd fd = co_await connect_nonblocking(path, timeout);
  // Blocking, as a freshly connected socket is. O_NONBLOCK is the only status flag it has.
  if (::fcntl(fd.get(), F_SETFL, 0) != 0)
    throw Error(ErrorCode::internal, std::string("cannot make a connected socket blocking: ") + std::strerror(errno));
  co_return fd;
}

Client::Client(UniqueFd fd, std::size_t max_payload) : fd_(std::move(fd)), decoder_(max_payload) {
  // Blocking, so that receive() waits inside recv() (one syscall) rather than in poll() and then
  // recv(), with SO_RCVTIMEO as the deadline. ipcd hands fds over blocking, but an fd may come
  // from elsewhere (an Asio socket released to us): O_NONBLOCK belongs to the open file.
  const int flags = ::fcntl(fd_.get(), F_GETFL);
  if (flags >= 0 && (flags & O_NONBLOCK) != 0) ::fcntl(fd_.get(), F_SETFL, flags & ~O_NONBLOCK);
  set_timeout(timeout_);
}

void Client::set_timeout(std::chrono::milliseconds timeout) noexcept {
  timeout_ = timeout;
  const timeval tv = to_timeval(timeout);
  ::setsockopt(fd_.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
}

Client Client::connect(const ServiceName& service, const ConnectOptions& options) {
  Client client(ipc::connect(service, options));
  client.set_timeout(options.timeout);
  return client;
}

void Client::send(const Message& message) {
  const auto deadline = Clock::now() + timeout_;
  std::uint8_t header[header_size];
  encode_header(std::span<std::uint8_t, header_size>(header), message.type,
                static_cast<std::uint32_t>(message.payload.size()), message.user_type);
  iovec iov[2] = {{header, header_size}, {const_cast<char*>(message.payload.data()), message.payload.size()}};
  iovec* next = iov;
  int count = message.payload.empty() ? 1 : 2;
  while (count > 0) {
    msghdr msg{};
    msg.msg_iov = next;
    msg.msg_iovlen = static_cast<std::size_t>(count);
    const ssize_t n = ::sendmsg(fd_.get(), &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        wait_for(fd_.get(), POLLOUT, deadline, "the service did not read what we sent in time");
        continue;
      }
      throw Error(ErrorCode::unavailable, std::string("the service went away: ") + std::strerror(errno));
    }
    auto done = static_cast<std::size_t>(n);
    while (count > 0 && done >= next->iov_len) {
      done -= next->iov_len;
      ++next;
      --count;
    }
    if (count > 0) {
      next->iov_base = static_cast<char*>(next->iov_base) + done;
      next->iov_len -= done;
    }
  }
}

Message Client::receive() {
  Message out;
  receive(out);
  return out;
}

void Client::receive(Message& out) {
  const auto deadline = Clock::now() + timeout_;
  // The first read of a call blocks in recv() for at most the timeout (SO_RCVTIMEO); the rest of
  // a frame split across reads waits in poll() for what is left of the deadline.
  bool first_read = true;
  for (;;) {
    switch (decoder_.next(out)) {
      case FrameDecoder::Status::frame:
        return;
      case FrameDecoder::Status::too_large:
        throw Error(ErrorCode::too_large, "the service sent a frame of " + std::to_string(decoder_.announced_length()) +
                                              " bytes, over the limit of " + std::to_string(decoder_.max_payload()));
      case FrameDecoder::Status::need_more:
        break;
    }
    auto room = decoder_.prepare();
    const bool blocking = first_read;
    first_read = false;
    const ssize_t n = ::recv(fd_.get(), room.data(), room.size(), blocking ? 0 : MSG_DONTWAIT);
    if (n > 0) {
      decoder_.commit(static_cast<std::size_t>(n));
    } else if (n == 0) {
      throw Error(ErrorCode::unavailable, "the service closed the connection");
    } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
      // SO_RCVTIMEO ran out (wait_for then finds the deadline passed and says so), or someone
      // made the socket non-blocking again (wait_for then waits what is left of it).
      wait_for(fd_.get(), POLLIN, deadline, "the service did not answer in time");
    } else if (errno != EINTR) {
      throw Error(ErrorCode::unavailable, std::string("the service went away: ") + std::strerror(errno));
    }
  }
}

}  // namespace ipc
