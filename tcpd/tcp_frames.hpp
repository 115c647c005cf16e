// One frame at a time over TCP, with a deadline: what the remote handshake (DESIGN §7) travels
// in, before the relay takes the socket over. Reads take exactly the frame's bytes, so whatever
// the peer sends after it stays in the socket for the relay.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <ipc/asio.hpp>
#include <ipc/message.hpp>
#include <string>

namespace tcpd {

// Reads one frame of at most `max_payload` bytes within `timeout`. Throws ipc::Error: timeout
// ("WHAT did not complete within ..."), too_large (checked before allocating), unavailable (the
// connection closed).
ipc::asio::awaitable<ipc::Message> read_frame(boost::asio::ip::tcp::socket& socket, std::size_t max_payload,
                                              std::chrono::milliseconds timeout, const std::string& what);

// Writes one frame within `timeout`. Throws ipc::Error: timeout, unavailable.
ipc::asio::awaitable<void> write_frame(boost::asio::ip::tcp::socket& socket, const ipc::Message& frame,
                                       std::chrono::milliseconds timeout);

// "1.5 s", for error texts.
[[nodiscard]] std::string seconds(std::chrono::milliseconds duration);
// "192.0.2.7:9000", "[2001:db8::1]:9000": the peer form of DESIGN §8.
[[nodiscard]] std::string text(const boost::asio::ip::tcp::endpoint& endpoint);

}  // namespace tcpd
