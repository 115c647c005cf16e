// WebSocket messages <-> libipc frames (see ipc/ws/mapping.hpp).
#include "ipc/ws/mapping.hpp"

#include <cctype>

namespace ipc::ws {
namespace {

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

std::optional<Subprotocol> choose_subprotocol(std::string_view header) {
  if (trim(header).empty()) return Subprotocol::none;
  while (!header.empty()) {
    const auto comma = header.find(',');
    const auto token = trim(header.substr(0, comma));
    if (token == subprotocol_frame) return Subprotocol::frame;
    if (token == subprotocol_text) return Subprotocol::text;
    if (comma == std::string_view::npos) break;
    header.remove_prefix(comma + 1);
  }
  return std::nullopt;
}

std::string_view to_string(Subprotocol subprotocol) noexcept {
  switch (subprotocol) {
    case Subprotocol::frame: return subprotocol_frame;
    case Subprotocol::text: return subprotocol_text;
    case Subprotocol::none: break;
  }
  return "none";
}

std::optional<ipc::Message> frame_from_message(std::string_view bytes, std::size_t max_payload, std::string& why) {
  if (bytes.size() < ipc::header_size) {
    why = "message of " + std::to_string(bytes.size()) + " bytes is shorter than a frame header";
    return std::nullopt;
  }
  const auto header = ipc::decode_header(bytes.data());
  if (header.length != bytes.size() - ipc::header_size) {
    why = "frame header announces " + std::to_string(header.length) + " payload bytes, the message holds " +
          std::to_string(bytes.size() - ipc::header_size) + " (one message must be exactly one frame)";
    return std::nullopt;
  }
  if (header.length > max_payload) {
    why = "frame of " + std::to_string(header.length) + " bytes exceeds the limit of " + std::to_string(max_payload);
    return std::nullopt;
  }
  if (!ipc::is_known_type(header.type)) {
    why = "unknown message type " + std::to_string(header.type);
    return std::nullopt;
  }
  return ipc::Message{static_cast<ipc::MessageType>(header.type), header.user_type,
                      std::string(bytes.substr(ipc::header_size))};
}

}  // namespace ipc::ws
