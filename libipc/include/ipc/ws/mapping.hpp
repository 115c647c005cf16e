// How WebSocket messages and libipc frames map onto each other (DESIGN §11), wherever a
// WebSocket meets a libipc session: websocketd, or a service that adopted a ws:// connection.
//
//   ipc.frame   every binary message is exactly one whole frame (header and payload), both
//               ways; what two websocketd's speak between hosts for ws:// URIs.
//   ipc.text    (or no subprotocol) a message from the client becomes the payload of a DATA
//               frame with user_type 0; a DATA frame from the service goes back as one
//               message holding its payload, text when it is valid UTF-8, else binary.
//               What a browser page uses.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "ipc/message.hpp"
#include "ipc/text.hpp"

namespace ipc::ws {

enum class Subprotocol { none, text, frame };

inline constexpr std::string_view subprotocol_frame = "ipc.frame";
inline constexpr std::string_view subprotocol_text = "ipc.text";

// Picks from a Sec-WebSocket-Protocol header ("a, b, c"): the first one we speak, in the
// client's order of preference. Absent header: none. Offered, but none we speak: nullopt.
[[nodiscard]] std::optional<Subprotocol> choose_subprotocol(std::string_view header);
[[nodiscard]] std::string_view to_string(Subprotocol subprotocol) noexcept;

// RFC 3629 UTF-8, as WebSocket text needs (libipc's check).
using ipc::is_valid_utf8;

// One ipc.frame message back into a frame. nullopt with `why` set when it is not exactly one
// whole frame of a known type within `max_payload`.
[[nodiscard]] std::optional<ipc::Message> frame_from_message(std::string_view bytes, std::size_t max_payload,
                                                             std::string& why);

}  // namespace ipc::ws
