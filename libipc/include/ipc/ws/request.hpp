// The WebSocket upgrade request as bytes: what websocketd reads from a browser and puts in ADOPT
// (DESIGN §15), and what a service that adopts the connection parses back before answering it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "ipc/ws/beast.hpp"

namespace ipc::ws {

using Request = http::request<http::string_body>;

// The longest upgrade request taken (its header: websocketd reads no more either).
inline constexpr std::uint32_t max_request_header = 16 * 1024;

// `bytes` as one whole HTTP request asking for a WebSocket upgrade, nothing after it; nullopt
// with `why` set when it is not.
[[nodiscard]] std::optional<Request> parse_upgrade_request(std::string_view bytes, std::string& why);
// A request as bytes again (what websocketd puts in ADOPT).
[[nodiscard]] std::string request_bytes(const Request& request);

}  // namespace ipc::ws
