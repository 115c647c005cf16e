// Error codes of the wire protocol (DESIGN §10) and the exception that carries one.
// Every failure a client can see travels as "code: human text" in an ERROR frame.
#pragma once

#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace ipc {

enum class ErrorCode {
  bad_request,
  not_found,
  denied,
  unreachable,
  refused,
  timeout,
  loop,
  unsupported_scheme,
  auth_failed,
  too_large,
  unavailable,
  internal,
};

// "bad-request", "not-found", ... as on the wire.
[[nodiscard]] std::string_view to_string(ErrorCode code) noexcept;
[[nodiscard]] std::optional<ErrorCode> parse_error_code(std::string_view text) noexcept;

// An error with a protocol code. what() is "code: text".
class Error : public std::runtime_error {
 public:
  Error(ErrorCode code, const std::string& text);

  [[nodiscard]] ErrorCode code() const noexcept { return code_; }
  // The human part, without the code.
  [[nodiscard]] const std::string& text() const noexcept { return text_; }

  // The ERROR frame payload for this error: "code: text".
  [[nodiscard]] std::string payload() const { return what(); }

  // Reads an ERROR payload back. An unknown code becomes `internal` with the whole payload as text.
  [[nodiscard]] static Error from_payload(std::string_view payload);

 private:
  ErrorCode code_;
  std::string text_;
};

}  // namespace ipc
