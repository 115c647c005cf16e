// websocketd's mapping (DESIGN §11): an ipc.frame message is one whole frame or refused, and a
// frame taken is exactly the message's bytes; a subprotocol header picks what it offers; the
// UTF-8 check agrees with a decoder written out here.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <ipc/ws/mapping.hpp>

#include "check.hpp"

namespace {

// RFC 3629, the plain way: shortest forms only, no surrogates, nothing past U+10FFFF.
bool utf8_reference(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t n = 0;
    std::uint32_t cp = 0;
    if (c < 0x80) { ++i; continue; }
    if ((c & 0xe0) == 0xc0) { n = 1; cp = c & 0x1f; }
    else if ((c & 0xf0) == 0xe0) { n = 2; cp = c & 0x0f; }
    else if ((c & 0xf8) == 0xf0) { n = 3; cp = c & 0x07; }
    else return false;
    for (std::size_t k = 1; k <= n; ++k) {
      if (i + k >= s.size()) return false;
      const auto d = static_cast<unsigned char>(s[i + k]);
      if ((d & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (d & 0x3f);
    }
    static constexpr std::uint32_t least[] = {0, 0x80, 0x800, 0x10000};
    if (cp < least[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
    i += n + 1;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  std::string why;
  if (const auto frame = ipc::ws::frame_from_message(bytes, 1024, why)) {
    FUZZ_CHECK(ipc::encode(*frame) == bytes);
    FUZZ_CHECK(frame->payload.size() <= 1024);
  } else {
    FUZZ_CHECK(!why.empty());
  }
  if (const auto chosen = ipc::ws::choose_subprotocol(bytes); chosen && *chosen != ipc::ws::Subprotocol::none)
    FUZZ_CHECK(bytes.find(ipc::ws::to_string(*chosen)) != std::string_view::npos);
  FUZZ_CHECK(ipc::ws::is_valid_utf8(bytes) == utf8_reference(bytes));
  return 0;
}
