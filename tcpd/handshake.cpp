// The remote handshake: encoding and validation.
#include "handshake.hpp"

#include <algorithm>
#include <ipc/error.hpp>
#include <ipc/json_frame.hpp>
#include <nlohmann/json.hpp>

namespace tcpd {
namespace {

std::string string_field(const nlohmann::json& body, const char* what, const char* key) {
  const auto it = body.find(key);
  if (it == body.end() || !it->is_string())
    throw ipc::Error(ipc::ErrorCode::bad_request, std::string(what) + ": '" + key + "' must be a string");
  return it->get<std::string>();
}

}  // namespace

ipc::Message encode_handshake(const Handshake& handshake) {
  nlohmann::json body{{"version", handshake_version}, {"service", handshake.service.str()}};
  if (!handshake.user.empty()) body["user"] = handshake.user;
  if (handshake.password) body["password"] = *handshake.password;
  return {ipc::MessageType::connect, 0, body.dump()};
}

Handshake parse_handshake(const ipc::Message& frame) {
  const auto body = ipc::parse_json_object(frame, ipc::MessageType::connect, "handshake");
  for (const auto& [key, value] : body.items()) {
    if (key != "version" && key != "service" && key != "user" && key != "password")
      throw ipc::Error(ipc::ErrorCode::bad_request, "handshake: unknown key '" + key + "'");
  }
  if (!body.contains("version") || !body["version"].is_number_integer() ||
      body["version"].get<long long>() != handshake_version)
    throw ipc::Error(ipc::ErrorCode::bad_request, "handshake: unsupported version (this side speaks version 1)");
  const auto service = string_field(body, "handshake", "service");
  if (auto why = ipc::ServiceName::why_invalid(service); !why.empty())
    throw ipc::Error(ipc::ErrorCode::bad_request, "handshake: " + why);
  Handshake out{ipc::ServiceName(service), "", std::nullopt};
  if (body.contains("user")) out.user = string_field(body, "handshake", "user");
  if (body.contains("password")) out.password = string_field(body, "handshake", "password");
  return out;
}

std::optional<std::string_view> foreign_protocol(std::span<const std::uint8_t> first) {
  const auto starts = [&](std::string_view word) {
    return first.size() >= word.size() && std::equal(word.begin(), word.end(), first.begin(),
                                                     [](char a, std::uint8_t b) { return static_cast<std::uint8_t>(a) == b; });
  };
  if (starts("SSH-")) return "SSH";
  if (starts("HTTP/")) return "HTTP";
  // A TLS record: content type 21 (alert) or 22 (handshake), then version 3.x.
  if (first.size() >= 2 && (first[0] == 21 || first[0] == 22) && first[1] == 3) return "TLS";
  if (!first.empty() && !ipc::is_known_type(first[0])) return "not the ipc protocol";
  return std::nullopt;
}

}  // namespace tcpd
