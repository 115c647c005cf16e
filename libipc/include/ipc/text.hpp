// Text that came from a peer, made safe to show: UTF-8 checks and escaping of control bytes, so
// that an ERROR from a remote host cannot move a terminal's cursor or forge a log line.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>

namespace ipc {

// The length of the well-formed RFC 3629 UTF-8 sequence that starts at bytes[i] (no overlong
// forms, no surrogates, at most U+10FFFF): 1 for ASCII, 2 to 4, or 0 when none starts there.
[[nodiscard]] std::size_t utf8_sequence_length(std::string_view bytes, std::size_t i) noexcept;

// Is the whole of `bytes` well-formed UTF-8 (as WebSocket text must be)?
[[nodiscard]] bool is_valid_utf8(std::string_view bytes) noexcept;

// `text` with every control character (C0, DEL, and C1 as UTF-8) and every byte that is not
// part of well-formed UTF-8 written as \xNN; everything else as it was.
[[nodiscard]] std::string printable(std::string_view text);

// A duration for messages: "10 s", "1.5 s", "0.25 s".
[[nodiscard]] std::string seconds_text(std::chrono::milliseconds duration);

// ASCII lower case (host names, schemes: never locale-dependent).
[[nodiscard]] constexpr char ascii_lower(char c) noexcept {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}
[[nodiscard]] std::string ascii_lower(std::string_view text);

}  // namespace ipc
