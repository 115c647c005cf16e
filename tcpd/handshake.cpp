// The remote handshake: encoding and validation.
#include "handshake.hpp"

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

}  // namespace tcpd
