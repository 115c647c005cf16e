// The frame decoder (DESIGN §3), as every connection feeds it: the same bytes in any split give
// the same frames, and each frame encoded again decodes to itself.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <ipc/message.hpp>

#include "check.hpp"

namespace {

struct Decoded {
  std::vector<ipc::Message> frames;
  bool too_large = false;
};

// Feeds `bytes` in pieces whose sizes come from `splits` (cycled; empty: all at once).
Decoded decode(std::string_view bytes, std::string_view splits) {
  ipc::FrameDecoder decoder(4096);
  Decoded out;
  std::size_t at = 0, turn = 0;
  while (!out.too_large) {
    ipc::Message message;
    const auto status = decoder.next(message);
    if (status == ipc::FrameDecoder::Status::frame) {
      out.frames.push_back(std::move(message));
      continue;
    }
    if (status == ipc::FrameDecoder::Status::too_large) {
      out.too_large = true;
      break;
    }
    if (at == bytes.size()) break;
    std::size_t n = bytes.size() - at;
    if (!splits.empty()) n = std::min<std::size_t>(n, 1 + static_cast<unsigned char>(splits[turn++ % splits.size()]));
    decoder.feed(bytes.substr(at, n));
    at += n;
  }
  return out;
}

bool same(const ipc::Message& a, const ipc::Message& b) {
  return a.type == b.type && a.user_type == b.user_type && a.payload == b.payload;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // The first bytes say how to split, the rest is the stream.
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const std::size_t split_bytes = input.empty() ? 0 : static_cast<unsigned char>(input[0]) % 8;
  const std::string_view splits = input.substr(input.empty() ? 0 : 1, std::min(split_bytes, input.size() - 1));
  const std::string_view stream = input.substr(std::min(input.size(), 1 + splits.size()));
  const Decoded whole = decode(stream, {});
  const Decoded pieces = decode(stream, splits);
  const Decoded bytewise = decode(stream, std::string_view("\0", 1));
  for (const Decoded* other : {&pieces, &bytewise}) {
    FUZZ_CHECK(other->too_large == whole.too_large);
    FUZZ_CHECK(other->frames.size() == whole.frames.size());
    for (std::size_t i = 0; i < whole.frames.size(); ++i) FUZZ_CHECK(same(other->frames[i], whole.frames[i]));
  }
  std::string again;
  for (const auto& frame : whole.frames) ipc::append_frame(again, frame);
  const Decoded redecoded = decode(again, {});
  FUZZ_CHECK(!redecoded.too_large && redecoded.frames.size() == whole.frames.size());
  for (std::size_t i = 0; i < whole.frames.size(); ++i) FUZZ_CHECK(same(redecoded.frames[i], whole.frames[i]));
  return 0;
}
