// The remote handshake between two protocol daemons (DESIGN §7): right after the TCP
// connection is up, the calling side sends one CONNECT frame with JSON
// {"version": 1, "service": "pong", "user": "...", "password": "..."} (credentials only when
// the URI has them); the answering side replies DATA "ok" or ERROR "code: text".
#pragma once

#include <cstdint>
#include <ipc/message.hpp>
#include <ipc/service_name.hpp>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace tcpd {

inline constexpr int handshake_version = 1;
// The largest handshake frame either side reads.
inline constexpr std::size_t max_handshake = 64 * 1024;

struct Handshake {
  ipc::ServiceName service;
  std::string user;
  std::optional<std::string> password;
};

[[nodiscard]] ipc::Message encode_handshake(const Handshake& handshake);
// Validates a CONNECT frame from a remote peer. Throws ipc::Error(bad_request) saying what is
// wrong (wrong type, not JSON, unknown key, wrong version, bad service name).
[[nodiscard]] Handshake parse_handshake(const ipc::Message& frame);

// The protocol a far side that is not a tcpd answered the handshake in, told from the first bytes
// of its answer (a frame header's worth): "SSH" (its banner), "HTTP" (a status line), "TLS" (a
// record: an alert or a handshake), "not the ipc protocol" (a type no frame has); nothing when
// they can be the header of a frame.
[[nodiscard]] std::optional<std::string_view> foreign_protocol(std::span<const std::uint8_t> first);

}  // namespace tcpd
