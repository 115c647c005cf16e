// Frames whose payload is a JSON object: the CONNECT requests between ipcd and the protocol
// daemons (DESIGN §6), the address check, and the remote handshake (§7).
#pragma once

#include <nlohmann/json.hpp>

#include "ipc/message.hpp"

namespace ipc {

// The payload of `frame` as a JSON object. Throws ipc::Error(bad_request) saying, after `what`,
// why not: "WHAT: expected a CONNECT frame, got DATA", "WHAT: not valid JSON", "WHAT: expected a
// JSON object".
[[nodiscard]] nlohmann::json parse_json_object(const Message& frame, MessageType type, const char* what);

}  // namespace ipc
