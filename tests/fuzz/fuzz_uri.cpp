// URIs (DESIGN §4), from IPC_NETWORK, ipcd's routes and config, CONNECT: whatever parses prints
// in a canonical form that parses to the same URI, with and without its password.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include <ipc/error.hpp>
#include <ipc/uri.hpp>

#include "check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)ipc::parse_scheme(text);
  std::optional<ipc::Uri> uri;
  try {
    uri.emplace(ipc::Uri::parse(text));
  } catch (const ipc::Error&) {
    return 0;
  }
  const ipc::Uri again = ipc::Uri::parse(uri->str_with_secrets());
  FUZZ_CHECK(again == *uri);
  FUZZ_CHECK(again.str() == uri->str());
  FUZZ_CHECK(ipc::Uri::parse(uri->str()).str() == uri->str());
  return 0;
}
