// A WebSocket upgrade request as an adopting service takes it from ADOPT (DESIGN §15): what
// parses, written out again, parses to the same bytes.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <ipc/ws/request.hpp>

#include "check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  std::string why;
  const auto request = ipc::ws::parse_upgrade_request(bytes, why);
  if (!request) {
    FUZZ_CHECK(!why.empty());
    return 0;
  }
  const std::string written = ipc::ws::request_bytes(*request);
  const auto again = ipc::ws::parse_upgrade_request(written, why);
  FUZZ_CHECK(again.has_value());
  FUZZ_CHECK(ipc::ws::request_bytes(*again) == written);
  return 0;
}
