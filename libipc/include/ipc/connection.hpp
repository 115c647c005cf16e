// Connection: one framed stream over a Unix socket, for async code on both sides (a service's
// session, an async client). Reads go through the incremental FrameDecoder; writes through a
// bounded queue with exactly one writer at a time (the first sender writes, later senders
// append and wait while the queue is over its bound). That wait is the backpressure a service
// feels when its client stops reading. A frame is written with one non-blocking send when the
// kernel takes it (ipc::write_all), and between frames a connection waits with a small read
// buffer, so an idle one holds no 64 KiB buffer (scripts/bench measures both).
#pragma once

#include <sys/socket.h>

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "ipc/asio.hpp"
#include "ipc/deadline.hpp"
#include "ipc/error.hpp"
#include "ipc/message.hpp"

namespace ipc {

class Connection;
class Session;
struct Adoption;

// A budget for the bytes all connections of a server hold in frames they have not received
// whole yet (--max-buffered): a few peers each sending most of a 16 MiB frame must not take
// the memory everybody else needs. Over the limit, `choose` names the connection to refuse
// (the largest holder); it gets too-large and is closed.
struct BufferBudget {
  std::size_t limit = 256 * 1024 * 1024;
  std::size_t used = 0;
  std::function<Connection*(Connection& trigger)> choose;
};

struct ConnectionLimits {
  std::size_t max_payload = default_max_payload;  // larger incoming frames: too-large
  std::size_t max_queued = 1024 * 1024;           // bytes queued for writing before senders wait
  BufferBudget* budget = nullptr;                 // shared by a server's connections; nullptr: none
  // A peer that takes none of the bytes waiting for it for this long is closed (send() gives
  // false, the log says why); each byte it takes starts the time again (0: wait forever).
  std::chrono::milliseconds write_timeout{60'000};
};

class Connection {
 public:
  explicit Connection(UnixSocket socket, ConnectionLimits limits = {});
  ~Connection();
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
  // Says `error` first when nothing else is being written (one non-blocking send of the ERROR
  // frame, best effort: the peer may not be reading), then closes. For closing a connection
  // from outside its session (idle, over a budget).
  void close_with(const Error& error) noexcept;

  // Ends the session gently (a server's drain): the frames the peer has sent already are still
  // received, then receive() gives false at the next frame boundary; answers still go out.
  void finish() noexcept;

  // The Server session this connection is the client of (a libipc service's), for a handler
  // that turns it into something else (a relay) and so changes how it is ended; nullptr if none.
  [[nodiscard]] Session* session() const noexcept { return session_; }
  void set_session(Session* session) noexcept { session_ = session; }

  // When a byte was last read from or written to the peer (or the connection was opened).
  [[nodiscard]] std::chrono::steady_clock::time_point last_activity() const noexcept { return last_activity_; }
  // Bytes received and not yet taken out as frames (what the buffer budget counts).
  [[nodiscard]] std::size_t held() const noexcept { return decoder_.buffered(); }
  [[nodiscard]] bool is_open() const noexcept { return socket_.is_open(); }

  // The peer's uid, gid and pid (SO_PEERCRED), read once at construction. For a remote peer's
  // connection adopted from a protocol daemon (below) it says nothing: pid 0, uid and gid -1.
  [[nodiscard]] const ucred& peer() const noexcept { return peer_; }
  // The remote peer of a connection the service adopted (DESIGN §15: scheme, address, identity,
  // certificate name, as the protocol daemon saw them), nullptr for a local client.
  [[nodiscard]] const Adoption* remote() const noexcept { return remote_.get(); }
  void set_remote(std::unique_ptr<const Adoption> remote) noexcept;
  [[nodiscard]] UnixSocket& socket() noexcept { return socket_; }
  // Gives up the socket, for a handler that relays its bytes from now on: the socket, and what
  // was received past the last frame taken out (it must go on first). The connection is closed
  // afterwards and holds no buffer.
  struct Released {
    UnixSocket socket;
    std::string buffered;
  };
  [[nodiscard]] Released release();

 private:
  asio::awaitable<bool> drain_queue();
  // receive() under `deadline` (nullptr: none): its reads are bound to it.
  asio::awaitable<bool> receive_within(Message& out, Deadline* deadline);
  // Writes under --write-timeout; false (and the connection closed) when it failed.
  asio::awaitable<bool> write_out(asio::const_buffer first, asio::const_buffer second);
  void stop_reading() noexcept;
  // Brings the budget up to date with held(); over it, refuses the connection it chooses.
  void account();

  UnixSocket socket_;
  ConnectionLimits limits_;
  FrameDecoder decoder_;
  ucred peer_{};
  std::unique_ptr<const Adoption> remote_;
  // Bytes read between frames (see receive()): a small frame fits, an idle connection holds no
  // larger buffer.
  static constexpr std::size_t small_read = 256;
  bool last_read_full_ = false;  // the last small read filled up: more is streaming in
  std::string queued_;    // frames waiting for the writer
  std::string writing_;   // what the writer is writing now
  bool writer_active_ = false;
  bool broken_ = false;
  bool finishing_ = false;  // finish(): no more frames after those in flight
  Session* session_ = nullptr;
  Signal queue_drained_;
  std::chrono::steady_clock::time_point last_activity_ = std::chrono::steady_clock::now();
  std::size_t accounted_ = 0;  // what this connection counts for in the budget
};

}  // namespace ipc
