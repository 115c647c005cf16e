// One frame at a time over TCP or TLS, with a deadline: what the remote handshake (DESIGN §7) travels
// in, before the relay takes the socket over. Reads take exactly the frame's bytes, so whatever
// the peer sends after it stays in the socket for the relay.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <ipc/asio.hpp>
#include <ipc/deadline.hpp>
#include <ipc/message.hpp>
#include <span>
#include <string>

#include "remote_stream.hpp"

namespace tcpd {

// Reads one frame of at most `max_payload` bytes within `timeout`. Throws ipc::Error: timeout
// ("WHAT did not complete within ..."), too_large (checked before allocating), unavailable (the
// connection closed). `check_header`, when given, sees the header's bytes before anything else
// is done with them, and may throw.
ipc::asio::awaitable<ipc::Message> read_frame(RemoteStream& stream, std::size_t max_payload,
                                              std::chrono::milliseconds timeout, const std::string& what,
                                              std::function<void(std::span<const std::uint8_t>)> check_header = {});

// Writes one frame within `timeout`. Throws ipc::Error: timeout, unavailable.
ipc::asio::awaitable<void> write_frame(RemoteStream& stream, const ipc::Message& frame,
                                       std::chrono::milliseconds timeout);

}  // namespace tcpd
