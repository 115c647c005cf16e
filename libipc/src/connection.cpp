// The async framed connection: incremental reads, one writer, a bounded write queue.
#include "ipc/connection.hpp"

#include <array>
#include <boost/asio/buffer.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/write.hpp>

#include "ipc/log.hpp"

namespace ipc {

Connection::Connection(UnixSocket socket, ConnectionLimits limits)
    : socket_(std::move(socket)),
      limits_(limits),
      decoder_(limits.max_payload),
      queue_drained_(socket_.get_executor()) {
  socklen_t len = sizeof peer_;
  if (::getsockopt(socket_.native_handle(), SOL_SOCKET, SO_PEERCRED, &peer_, &len) != 0) {
    peer_ = ucred{0, static_cast<uid_t>(-1), static_cast<gid_t>(-1)};
  }
}

asio::awaitable<bool> Connection::receive(Message& out) {
  for (;;) {
    switch (decoder_.next(out)) {
      case FrameDecoder::Status::frame:
        if (!is_known_type(static_cast<std::uint8_t>(out.type)))
          throw Error(ErrorCode::bad_request,
                      "unknown message type " + std::to_string(static_cast<unsigned>(out.type)));
        co_return true;
      case FrameDecoder::Status::too_large:
        throw Error(ErrorCode::too_large, "frame of " + std::to_string(decoder_.announced_length()) +
                                              " bytes exceeds the limit of " +
                                              std::to_string(decoder_.max_payload()) + " bytes");
      case FrameDecoder::Status::need_more:
        break;
    }
    if (!socket_.is_open()) co_return false;
    auto room = decoder_.prepare();
    auto [ec, n] = co_await socket_.async_read_some(asio::buffer(room.data(), room.size()), use_nothrow);
    if (ec) {
      if (ec != asio::error::eof && ec != asio::error::operation_aborted && ec != asio::error::bad_descriptor)
        log_debug("read: ", ec.message());
      co_return false;
    }
    decoder_.commit(n);
  }
}

asio::awaitable<bool> Connection::receive(Message& out, std::chrono::milliseconds timeout) {
  // A timer that cancels the read, rather than racing two awaitables: receive() may throw
  // (too-large, bad type), and that error must reach the caller at once.
  asio::steady_timer timer(socket_.get_executor(), timeout);
  bool timed_out = false;
  timer.async_wait([this, &timed_out](const boost::system::error_code& ec) {
    if (ec) return;  // cancelled: the frame came first (and `timed_out` may be gone)
    timed_out = true;
    boost::system::error_code ignored;
    socket_.cancel(ignored);
  });
  const bool got = co_await receive(out);
  timer.cancel();
  if (timed_out) throw Error(ErrorCode::timeout, "no whole frame within the timeout");
  co_return got;
}

asio::awaitable<bool> Connection::send(const Message& message) {
  if (broken_ || !socket_.is_open()) co_return false;
  if (writer_active_) {
    // Another coroutine is writing: queue behind it and wait while the queue is over its bound.
    append_frame(queued_, message);
    while (!broken_ && writer_active_ && queued_.size() > limits_.max_queued) co_await queue_drained_.wait();
    co_return !broken_;
  }
  writer_active_ = true;
  // Nothing queued: write header and payload straight from the message, without copying it.
  std::array<std::uint8_t, header_size> header{};
  encode_header(header, message.type, static_cast<std::uint32_t>(message.payload.size()), message.user_type);
  const std::array<asio::const_buffer, 2> buffers{asio::buffer(header), asio::buffer(message.payload)};
  auto [ec, n] = co_await asio::async_write(socket_, buffers, use_nothrow);
  if (ec) {
    broken_ = true;
  } else {
    co_await drain_queue();
  }
  writer_active_ = false;
  queue_drained_.notify_all();
  co_return !broken_;
}

// Writes whatever other senders queued meanwhile, in batches (one write per batch).
asio::awaitable<bool> Connection::drain_queue() {
  while (!broken_ && !queued_.empty()) {
    writing_.swap(queued_);
    queued_.clear();
    queue_drained_.notify_all();
    auto [ec, n] = co_await asio::async_write(socket_, asio::buffer(writing_), use_nothrow);
    writing_.clear();
    if (ec) broken_ = true;
  }
  if (broken_) queued_.clear();
  co_return !broken_;
}

asio::awaitable<void> Connection::send_error(const Error& error, std::chrono::milliseconds timeout) {
  using namespace asio::experimental::awaitable_operators;
  if (!socket_.is_open()) co_return;
  asio::steady_timer deadline(socket_.get_executor(), timeout);
  const Message frame = Message::error(error.payload());
  co_await (send(frame) || deadline.async_wait(use_nothrow));
}

void Connection::close() noexcept {
  boost::system::error_code ignored;
  socket_.shutdown(UnixSocket::shutdown_both, ignored);
  socket_.close(ignored);
  broken_ = true;
  queue_drained_.notify_all();
}

}  // namespace ipc
