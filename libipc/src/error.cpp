// Error codes (DESIGN §10): their wire names and the "code: text" payload.
#include "ipc/error.hpp"

#include <array>
#include <utility>

#include "ipc/text.hpp"

namespace ipc {
namespace {

constexpr std::array<std::pair<ErrorCode, std::string_view>, 12> names{{
    {ErrorCode::bad_request, "bad-request"},
    {ErrorCode::not_found, "not-found"},
    {ErrorCode::denied, "denied"},
    {ErrorCode::unreachable, "unreachable"},
    {ErrorCode::refused, "refused"},
    {ErrorCode::timeout, "timeout"},
    {ErrorCode::loop, "loop"},
    {ErrorCode::unsupported_scheme, "unsupported-scheme"},
    {ErrorCode::auth_failed, "auth-failed"},
    {ErrorCode::too_large, "too-large"},
    {ErrorCode::unavailable, "unavailable"},
    {ErrorCode::internal, "internal"},
}};

}  // namespace

std::string_view to_string(ErrorCode code) noexcept {
  for (const auto& [c, name] : names) {
    if (c == code) return name;
  }
  return "internal";
}

std::optional<ErrorCode> parse_error_code(std::string_view text) noexcept {
  for (const auto& [c, name] : names) {
    if (name == text) return c;
  }
  return std::nullopt;
}

Error::Error(ErrorCode code, const std::string& text)
    : std::runtime_error(std::string(to_string(code)) + ": " + text), code_(code), text_(text) {}

Error Error::from_payload(std::string_view payload) {
  const auto colon = payload.find(':');
  if (colon != std::string_view::npos) {
    if (auto code = parse_error_code(payload.substr(0, colon))) {
      auto rest = payload.substr(colon + 1);
      while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
      return Error(*code, printable(rest));  // a peer's text: shown, never acted on
    }
  }
  if (auto code = parse_error_code(payload)) return Error(*code, "(no details)");
  return Error(ErrorCode::internal, printable(payload));
}

}  // namespace ipc
