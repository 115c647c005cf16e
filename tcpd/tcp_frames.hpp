// One frame at a time over TCP or TLS, with a deadline: what the remote handshake (DESIGN §7) travels
// in, before the relay takes the socket over. Reads take exactly the frame's bytes, so whatever
// the peer sends after it stays in the socket for the relay.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <ipc/asio.hpp>
#include <ipc/message.hpp>
#include <memory>
#include <string>

#include "remote_stream.hpp"

namespace tcpd {

// Cancels the socket's operations when the deadline passes; expired() tells afterwards.
// The timer's handler may already be queued when the operation finishes first (cancel() cannot
// take it back), so it checks that this Deadline still exists before touching the socket: a
// late cancel would otherwise abort the next operation, or touch a socket that is gone.
class Deadline {
 public:
  Deadline(boost::asio::ip::tcp::socket& socket, std::chrono::milliseconds timeout);
  ~Deadline();
  Deadline(const Deadline&) = delete;
  Deadline& operator=(const Deadline&) = delete;
  [[nodiscard]] bool expired() const { return state_->expired; }

 private:
  struct State {
    bool expired = false;
    bool finished = false;
  };
  boost::asio::steady_timer timer_;
  std::shared_ptr<State> state_;
};

// Reads one frame of at most `max_payload` bytes within `timeout`. Throws ipc::Error: timeout
// ("WHAT did not complete within ..."), too_large (checked before allocating), unavailable (the
// connection closed).
ipc::asio::awaitable<ipc::Message> read_frame(RemoteStream& stream, std::size_t max_payload,
                                              std::chrono::milliseconds timeout, const std::string& what);

// Writes one frame within `timeout`. Throws ipc::Error: timeout, unavailable.
ipc::asio::awaitable<void> write_frame(RemoteStream& stream, const ipc::Message& frame,
                                       std::chrono::milliseconds timeout);

}  // namespace tcpd
