// Frames whose payload is a JSON object (see json_frame.hpp).
#include "ipc/json_frame.hpp"

#include <string>

#include "ipc/error.hpp"

namespace ipc {

nlohmann::json parse_json_object(const Message& frame, MessageType type, const char* what) {
  const auto bad = [what](const std::string& why) { return Error(ErrorCode::bad_request, std::string(what) + ": " + why); };
  if (frame.type != type)
    throw bad("expected a " + std::string(to_string(type)) + " frame, got " + std::string(to_string(frame.type)));
  nlohmann::json body;
  try {
    body = nlohmann::json::parse(frame.payload);
  } catch (const nlohmann::json::exception&) {
    throw bad("not valid JSON");
  }
  if (!body.is_object()) throw bad("expected a JSON object");
  return body;
}

}  // namespace ipc
