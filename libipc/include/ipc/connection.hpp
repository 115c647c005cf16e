// Connection: one framed stream over a Unix socket, for async code on both sides (a service's
// session, an async client). Reads go through the incremental FrameDecoder; writes through a
// bounded queue with exactly one writer at a time (the first sender writes, later senders
// append and wait while the queue is over its bound). That wait is the backpressure a service
// feels when its client stops reading. A frame is written with one non-blocking send when the
// kernel takes it (ipc::write_all), and between frames a connection waits with a small read
// buffer, so an idle one holds no 64 KiB buffer (scripts/bench measures both).
#pragma once

#include <sys/socket.h>

#include <cstddef>
#include <optional>
#include <string>

#include "ipc/asio.hpp"
#include "ipc/error.hpp"
#include "ipc/message.hpp"

namespace ipc {

struct ConnectionLimits {
  std::size_t max_payload = default_max_payload;  // larger incoming frames: too-large
  std::size_t max_queued = 1024 * 1024;           // bytes queued for writing before senders wait
};

class Connection {
 public:
  explicit Connection(UnixSocket socket, ConnectionLimits limits = {});
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // The next frame into `out`. False at EOF or when the connection was closed or failed.
  // A frame over the payload limit throws ipc::Error(too_large); an unknown message type
  // throws ipc::Error(bad_request).
  asio::awaitable<bool> receive(Message& out);
  // The same within `timeout`: ipc::Error(timeout) when no whole frame arrived in time.
  asio::awaitable<bool> receive(Message& out, std::chrono::milliseconds timeout);

  // Queues a frame; returns once it is written or queued within the bound. False when the
  // connection is broken (the peer went away); the frame is then dropped.
  asio::awaitable<bool> send(const Message& message);

  // Best effort: sends ERROR "code: text" within `timeout`, for use right before closing.
  asio::awaitable<void> send_error(const Error& error, std::chrono::milliseconds timeout = std::chrono::seconds(2));

  // Closes the socket; pending and future operations end (receive gives false).
  void close() noexcept;
  [[nodiscard]] bool is_open() const noexcept { return socket_.is_open(); }

  // The peer's uid, gid and pid (SO_PEERCRED), read once at construction.
  [[nodiscard]] const ucred& peer() const noexcept { return peer_; }
  [[nodiscard]] UnixSocket& socket() noexcept { return socket_; }
  [[nodiscard]] FrameDecoder& decoder() noexcept { return decoder_; }

 private:
  asio::awaitable<bool> drain_queue();

  UnixSocket socket_;
  ConnectionLimits limits_;
  FrameDecoder decoder_;
  ucred peer_{};
  // Bytes read between frames (see receive()): a small frame fits, an idle connection holds no
  // larger buffer.
  static constexpr std::size_t small_read = 256;
  bool last_read_full_ = false;  // the last small read filled up: more is streaming in
  std::string queued_;    // frames waiting for the writer
  std::string writing_;   // what the writer is writing now
  bool writer_active_ = false;
  bool broken_ = false;
  Signal queue_drained_;
};

}  // namespace ipc
