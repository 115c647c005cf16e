// The async framed connection: incremental reads, one writer, a bounded write queue.
#include "ipc/connection.hpp"

#include <array>
#include <cerrno>
#include <memory>
#include <tuple>
#include <boost/asio/buffer.hpp>

#include "ipc/adopt.hpp"
#include "ipc/log.hpp"
#include "ipc/stream_write.hpp"
#include "ipc/text.hpp"

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

void Connection::set_remote(std::unique_ptr<const Adoption> remote) noexcept {
  remote_ = std::move(remote);
  // A TCP socket's SO_PEERCRED is the kernel's "nobody": no uid must be believed for it.
  peer_ = ucred{0, static_cast<uid_t>(-1), static_cast<gid_t>(-1)};
}

Connection::~Connection() {
  if (limits_.budget != nullptr) limits_.budget->used -= accounted_;
}

void Connection::account() {
  BufferBudget* budget = limits_.budget;
  if (budget == nullptr || !socket_.is_open()) return;  // closed: counts for nothing (see close())
  const std::size_t now = decoder_.buffered();
  budget->used = budget->used - accounted_ + now;
  accounted_ = now;
  if (budget->used <= budget->limit || !budget->choose) return;
  Connection* victim = budget->choose(*this);
  if (victim == nullptr) return;
  const Error refusal(ErrorCode::too_large, std::to_string(victim->held()) +
                                                " bytes held in an unfinished frame while the server's budget for "
                                                "those is spent (" +
                                                std::to_string(budget->limit) + " bytes, --max-buffered)");
  if (victim == this) throw refusal;
  log_info("client pid ", victim->peer().pid, ": ", refusal.what());
  victim->close_with(refusal);
}

// Not a coroutine: the caller awaits receive_within's frame itself, so an idle connection waits
// in one frame, not two (scripts/bench measures the memory per idle connection).
asio::awaitable<bool> Connection::receive(Message& out) { return receive_within(out, nullptr); }

asio::awaitable<bool> Connection::receive_within(Message& out, Deadline* deadline) {
  for (;;) {
    const auto status = decoder_.next(out);
    if (accounted_ != decoder_.buffered()) account();
    switch (status) {
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
    if (finishing_ && decoder_.buffered() == 0) stop_reading();
    // (It may have expired while no read was pending, with nothing to cancel.)
    if (deadline != nullptr && deadline->expired()) throw Error(ErrorCode::timeout, "no whole frame within the timeout");
    boost::system::error_code ec;
    std::size_t n = 0;
    if (decoder_.buffered() == 0 && !last_read_full_) {
      // Between frames: wait with a small buffer of this coroutine's instead of the decoder's
      // (64 KiB, or up to 1 MiB after a large frame), so an idle connection holds no read
      // buffer, and a small frame (the common request and answer) goes from here to a decoder
      // buffer just as small.
      decoder_.release_if_empty();
      std::array<char, small_read> small;
      if (deadline != nullptr)
        std::tie(ec, n) = co_await socket_.async_read_some(asio::buffer(small), deadline->bind(use_nothrow));
      else
        std::tie(ec, n) = co_await socket_.async_read_some(asio::buffer(small), use_nothrow);
      if (!ec) decoder_.feed({small.data(), n});
      last_read_full_ = n == small.size();
    } else {
      // Within a frame, or right after a read that filled the small buffer (frames are
      // streaming in): read as much as there is.
      auto room = decoder_.prepare();
      if (deadline != nullptr)
        std::tie(ec, n) = co_await socket_.async_read_some(asio::buffer(room.data(), room.size()),
                                                           deadline->bind(use_nothrow));
      else
        std::tie(ec, n) = co_await socket_.async_read_some(asio::buffer(room.data(), room.size()), use_nothrow);
      if (!ec) decoder_.commit(n);
      last_read_full_ = false;
    }
    if (ec) {
      if (deadline != nullptr && deadline->expired()) throw Error(ErrorCode::timeout, "no whole frame within the timeout");
      if (ec != asio::error::eof && ec != asio::error::operation_aborted && ec != asio::error::bad_descriptor)
        log_debug("read: ", ec.message());
      co_return false;
    }
    last_activity_ = std::chrono::steady_clock::now();
  }
}

asio::awaitable<bool> Connection::receive(Message& out, std::chrono::milliseconds timeout) {
  // A request is usually in the socket already (a client sends it right after connecting): one
  // non-blocking read, and when that completes the frame no timer is armed at all.
  if (finishing_ && decoder_.buffered() == 0) stop_reading();
  if (decoder_.buffered() == 0 && !last_read_full_ && socket_.is_open()) {
    std::array<char, small_read> small;
    ssize_t n;
    do {
      n = ::recv(socket_.native_handle(), small.data(), small.size(), MSG_DONTWAIT);
    } while (n < 0 && errno == EINTR);
    if (n == 0) co_return false;  // EOF between frames
    if (n > 0) {
      decoder_.feed({small.data(), static_cast<std::size_t>(n)});
      last_read_full_ = static_cast<std::size_t>(n) == small.size();
      last_activity_ = std::chrono::steady_clock::now();
    }
    // (An error other than EAGAIN is met again, and reported, by the read below.)
  }
  if (decoder_.complete()) co_return co_await receive(out);
  // Only this receive's reads are bound to the deadline: a send in progress on the same
  // socket is not touched when it expires.
  Deadline deadline(socket_.get_executor(), timeout);
  co_return co_await receive_within(out, &deadline);
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
  if (co_await write_out(asio::buffer(header), asio::buffer(message.payload))) co_await drain_queue();
  writer_active_ = false;
  queue_drained_.notify_all();
  co_return !broken_;
}

asio::awaitable<bool> Connection::write_out(asio::const_buffer first, asio::const_buffer second) {
  const std::array<asio::const_buffer, 2> buffers{first, second};
  const auto ec = co_await write_all(socket_, buffers, limits_.write_timeout);
  last_activity_ = std::chrono::steady_clock::now();
  if (!ec) co_return true;
  if (ec == asio::error::timed_out) {
    log_info("client pid ", peer_.pid, ": took nothing for ", seconds_text(limits_.write_timeout), " while ",
             asio::buffer_size(buffers), " bytes waited for it: closed (--write-timeout)");
    close();
  }
  broken_ = true;
  co_return false;
}

// Writes whatever other senders queued meanwhile, in batches (one write per batch).
asio::awaitable<bool> Connection::drain_queue() {
  while (!broken_ && !queued_.empty()) {
    writing_.swap(queued_);
    queued_.clear();
    queue_drained_.notify_all();
    const bool written = co_await write_out(asio::buffer(writing_), asio::const_buffer());
    writing_.clear();
    if (!written) break;
  }
  if (broken_) queued_.clear();
  co_return !broken_;
}

asio::awaitable<void> Connection::send_error(const Error& error, std::chrono::milliseconds timeout) {
  if (!socket_.is_open()) co_return;
  // The connection is about to close anyway: when the peer has not taken the ERROR in time, it
  // closes now, which ends the write (behind whatever another sender is writing).
  const Deadline deadline(socket_.get_executor(), timeout, [this] { close(); });
  const Message frame = Message::error(error.payload());
  (void)co_await send(frame);
}

Connection::Released Connection::release() {
  Released out{std::move(socket_), decoder_.take_buffered()};
  if (limits_.budget != nullptr) limits_.budget->used -= accounted_;
  accounted_ = 0;
  decoder_ = FrameDecoder(decoder_.max_payload());
  broken_ = true;
  queue_drained_.notify_all();
  return out;
}

void Connection::finish() noexcept {
  finishing_ = true;
  // Between frames: a read waiting now ends (EOF) once what the peer sent is taken. Within a
  // frame, receive() does this when the frame is whole.
  if (decoder_.buffered() == 0) stop_reading();
}

void Connection::stop_reading() noexcept {
  // shutdown(SHUT_RD) of a Unix socket wakes a pending read, which then takes what is queued
  // and sees EOF after it; the peer's later writes fail (EPIPE), and ours still go out.
  boost::system::error_code ignored;
  socket_.shutdown(UnixSocket::shutdown_receive, ignored);
}

void Connection::close_with(const Error& error) noexcept {
  if (socket_.is_open() && !writer_active_ && queued_.empty()) {
    try {
      const std::string frame = encode(Message::error(error.payload()));
      (void)::send(socket_.native_handle(), frame.data(), frame.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
    } catch (const std::exception&) {
      // (Out of memory for a few dozen bytes: the connection closes without the reason.)
    }
  }
  close();
}

void Connection::close() noexcept {
  // What it held counts no more: the budget is for connections that can still grow.
  if (limits_.budget != nullptr) limits_.budget->used -= accounted_;
  accounted_ = 0;
  boost::system::error_code ignored;
  socket_.shutdown(UnixSocket::shutdown_both, ignored);
  socket_.close(ignored);
  broken_ = true;
  queue_drained_.notify_all();
}

}  // namespace ipc
