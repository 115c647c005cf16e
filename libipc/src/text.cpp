// UTF-8 checks and escaping (see text.hpp).
#include "ipc/text.hpp"

namespace ipc {

std::size_t utf8_sequence_length(std::string_view bytes, std::size_t i) noexcept {
  const auto* s = reinterpret_cast<const unsigned char*>(bytes.data());
  const std::size_t n = bytes.size();
  if (i >= n) return 0;
  const unsigned char c = s[i];
  if (c < 0x80) return 1;
  std::size_t length;
  unsigned char lo = 0x80, hi = 0xbf;  // allowed range of the second byte
  if (c >= 0xc2 && c <= 0xdf) {
    length = 2;
  } else if (c >= 0xe0 && c <= 0xef) {
    length = 3;
    if (c == 0xe0) lo = 0xa0;  // overlong
    if (c == 0xed) hi = 0x9f;  // surrogates
  } else if (c >= 0xf0 && c <= 0xf4) {
    length = 4;
    if (c == 0xf0) lo = 0x90;  // overlong
    if (c == 0xf4) hi = 0x8f;  // above U+10FFFF
  } else {
    return 0;
  }
  if (i + length > n) return 0;
  if (s[i + 1] < lo || s[i + 1] > hi) return 0;
  for (std::size_t k = 2; k < length; ++k)
    if (s[i + k] < 0x80 || s[i + k] > 0xbf) return 0;
  return length;
}

bool is_valid_utf8(std::string_view bytes) noexcept {
  for (std::size_t i = 0; i < bytes.size();) {
    const std::size_t length = utf8_sequence_length(bytes, i);
    if (length == 0) return false;
    i += length;
  }
  return true;
}

std::string printable(std::string_view text) {
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  out.reserve(text.size());
  const auto escape = [&](unsigned char c) {
    out += "\\x";
    out += hex[c >> 4];
    out += hex[c & 0xf];
  };
  for (std::size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    const std::size_t length = utf8_sequence_length(text, i);
    if (length == 1 && (c < 0x20 || c == 0x7f)) {
      escape(c);
    } else if (length == 0 || (length == 2 && c == 0xc2 && static_cast<unsigned char>(text[i + 1]) < 0xa0)) {
      // Not UTF-8, or a C1 control (U+0080..U+009F): escaped byte by byte.
      const std::size_t bytes = length == 0 ? 1 : 2;
      for (std::size_t k = 0; k < bytes; ++k) escape(static_cast<unsigned char>(text[i + k]));
      i += bytes;
      continue;
    } else {
      out.append(text.substr(i, length));
    }
    i += length;
  }
  return out;
}

std::string seconds_text(std::chrono::milliseconds duration) {
  std::string out = std::to_string(duration.count() / 1000);
  if (const auto ms = duration.count() % 1000; ms != 0) {
    std::string fraction = std::to_string(1000 + ms).substr(1);
    while (fraction.back() == '0') fraction.pop_back();
    out += "." + fraction;
  }
  return out + " s";
}

std::string ascii_lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = ascii_lower(c);
  return out;
}

}  // namespace ipc
