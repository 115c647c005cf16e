// The byte relay (see relay.hpp).
#include "relay.hpp"

#include <poll.h>

#include <ipc/log.hpp>
#include <ipc/run_both.hpp>
#include <ipc/stream_write.hpp>
#include <ipc/text.hpp>
#include <memory>
#include <type_traits>
#include <vector>

namespace tcpd {
namespace asio = ipc::asio;
namespace {

constexpr std::size_t chunk = 64 * 1024;
// Chunks kept for reuse beyond those in use: enough for the directions active at one moment on
// one thread, small enough (2 MiB) not to matter.
constexpr std::size_t pooled_chunks = 32;

// Chunks of the relays of this thread (each io_context thread has its own: no locking).
class ChunkPool {
 public:
  using Chunk = std::unique_ptr<char[]>;
  Chunk take() {
    if (free_.empty()) return std::make_unique_for_overwrite<char[]>(chunk);
    Chunk c = std::move(free_.back());
    free_.pop_back();
    return c;
  }
  void give(Chunk c) noexcept {
    if (free_.size() < pooled_chunks) free_.push_back(std::move(c));
  }
  ChunkPool() { free_.reserve(pooled_chunks); }

 private:
  std::vector<Chunk> free_;
};
thread_local ChunkPool pool;

// A chunk taken from the pool for as long as data flows; back to the pool when it goes out of
// scope, also when the coroutine is destroyed mid-write at shutdown.
class Borrowed {
 public:
  Borrowed() : chunk_(pool.take()) {}
  ~Borrowed() { pool.give(std::move(chunk_)); }
  Borrowed(const Borrowed&) = delete;
  Borrowed& operator=(const Borrowed&) = delete;
  [[nodiscard]] char* data() const noexcept { return chunk_.get(); }

 private:
  ChunkPool::Chunk chunk_;
};

// The few operations a pump needs, for either side.
ipc::UnixSocket& socket_of(ipc::UnixSocket& side) { return side; }
TcpSocket& socket_of(RemoteStream& side) { return side.socket(); }
bool has_buffered(const ipc::UnixSocket&) { return false; }
bool has_buffered(const RemoteStream& side) { return side.has_buffered(); }
asio::awaitable<boost::system::error_code> write_all(ipc::UnixSocket& side, asio::const_buffer bytes,
                                                     std::chrono::milliseconds stall) {
  return ipc::write_all(side, bytes, stall);
}
asio::awaitable<boost::system::error_code> write_all(RemoteStream& side, asio::const_buffer bytes,
                                                     std::chrono::milliseconds stall) {
  return side.write(bytes, stall);
}
asio::awaitable<void> shutdown_send(ipc::UnixSocket& side, std::chrono::milliseconds) {
  boost::system::error_code ignored;
  side.shutdown(ipc::UnixSocket::shutdown_send, ignored);
  co_return;
}
asio::awaitable<void> shutdown_send(RemoteStream& side, std::chrono::milliseconds stall) {
  return side.shutdown_send(stall);
}
// Whether the side has closed entirely: its socket is gone, not only shut down for sending
// (POLLHUP: both directions of our end are shut).
bool entirely_closed(ipc::UnixSocket& side) {
  pollfd p{side.native_handle(), 0, 0};
  return ::poll(&p, 1, 0) == 1 && (p.revents & POLLHUP) != 0;
}
const char* name_of(const ipc::UnixSocket&) { return "the local side"; }
const char* name_of(const RemoteStream&) { return "the remote side"; }
std::string tls_reason(const ipc::UnixSocket&) { return {}; }
std::string tls_reason(const RemoteStream& side) { return side.tls_failure().empty() ? "" : " (TLS: " + side.tls_failure() + ")"; }

}  // namespace

Relay::Relay(ipc::UnixSocket unix_side, RemoteStream remote, std::chrono::milliseconds write_timeout)
    : unix_side_(std::move(unix_side)), remote_(std::move(remote)), write_timeout_(write_timeout) {}

void Relay::close() noexcept {
  boost::system::error_code ignored;
  unix_side_.close(ignored);
  remote_.close();
  if (last_moment_ != nullptr) last_moment_->cancel();
}

void Relay::finish() noexcept {
  // A pending wait on the Unix side wakes; the read then takes what is queued, then sees EOF.
  boost::system::error_code ignored;
  unix_side_.shutdown(ipc::UnixSocket::shutdown_receive, ignored);
}

template <class From, class To>
asio::awaitable<void> Relay::pump(From& from, To& to, std::string first) {
  // A write that failed: the log says so when the side stopped taking bytes.
  const auto failed_write = [this, &to](const boost::system::error_code& ec) {
    if (ec == asio::error::timed_out)
      ipc::log_info("relay: ", name_of(to), " took nothing for ", ipc::seconds_text(write_timeout_),
                    " while data waited for it: dropped (--write-timeout)");
    else
      ipc::log_debug("relay: writing to ", name_of(to), ": ", ec.message(), tls_reason(to));
  };
  if (!first.empty()) {
    if (const auto ec = co_await write_all(to, asio::buffer(first), write_timeout_)) {
      failed_write(ec);
      close();
      co_return;
    }
    std::string().swap(first);  // its memory goes now, not when the relay ends
  }
  bool unix_gone = false;  // it closed entirely: both directions are done, or nobody reads the rest
  for (;;) {
    // Wait for data before holding a buffer: idle connections cost no buffer memory. (An
    // async_read_some into a small buffer of the pump's own would save Asio's epoll_ctl that
    // re-arms the socket for async_wait, but Asio then tries a speculative read that fails just
    // as often, and the idle connection grows by about 1.5 KiB: measured, not worth it.)
    if (!has_buffered(from)) {
      auto [wait_error] = co_await socket_of(from).async_wait(asio::socket_base::wait_read, ipc::use_nothrow);
      if (wait_error) break;
    }
    // Move what `from` has, chunk by chunk, until it has nothing more right now; then the chunk
    // goes back to the pool (end of this scope) and the loop waits again.
    Borrowed buffer;
    bool ended = false;  // a side failed, or the Unix side has gone
    for (;;) {
      boost::system::error_code read_error;
      const std::size_t n = from.read_some(asio::buffer(buffer.data(), chunk), read_error);
      if (read_error == asio::error::would_block || read_error == asio::error::try_again) break;
      if (read_error == asio::error::eof) {
        // Half-close: the other side learns there is no more, and may go on sending.
        co_await shutdown_send(to, write_timeout_);
        if constexpr (std::is_same_v<From, ipc::UnixSocket>) {
          // The other direction goes on, unless nobody is left to read it.
          if (remote_ended_ || !entirely_closed(unix_side_)) co_return;
          unix_gone = true;
          ended = true;
          break;
        } else {
          remote_ended_ = true;
          if (last_moment_ != nullptr) last_moment_->cancel();  // the Unix side's wait is over
          co_return;
        }
      }
      if (read_error) {
        ended = true;
        break;
      }
      // The next read waits for this write: one chunk in flight is the backpressure.
      if (const auto ec = co_await write_all(to, asio::buffer(buffer.data(), n), write_timeout_)) {
        failed_write(ec);
        ended = true;
        break;
      }
      // A short read means the socket is empty for now: no need to try again before waiting.
      if (n < chunk) break;
    }
    if (ended) break;
  }
  if (unix_gone) {
    // The Unix side has gone: what the remote still sends has nobody to read it. Its last moment
    // to end on its own (the other direction then sees its EOF and closes both), then it is closed.
    asio::steady_timer moment(unix_side_.get_executor(),
                              write_timeout_.count() > 0 ? write_timeout_ : std::chrono::milliseconds(10'000));
    last_moment_ = &moment;
    co_await moment.async_wait(ipc::use_nothrow);
    last_moment_ = nullptr;
  }
  // Either side failed, close() was called, or both directions are done: closing both ends the
  // other direction's wait.
  close();
}

asio::awaitable<void> Relay::run(std::string to_remote_first, std::string to_unix_first) {
  // Non-blocking, so a read after a spurious readiness gives would_block instead of waiting.
  boost::system::error_code ignored;
  unix_side_.non_blocking(true, ignored);
  remote_.socket().non_blocking(true, ignored);
  // Each direction ends on its own and closes both sides when it fails, which ends the other.
  auto to_remote = pump(unix_side_, remote_, std::move(to_remote_first));
  auto to_unix = pump(remote_, unix_side_, std::move(to_unix_first));
  co_await ipc::run_both(std::move(to_remote), std::move(to_unix), [this] { close(); });
}

}  // namespace tcpd
