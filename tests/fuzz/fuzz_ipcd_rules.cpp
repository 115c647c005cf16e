// ipcd's rules and config file (DESIGN §9, §13): a rule that parses prints in a normal form that
// parses to the same rule; a config document parses or is refused with a ConfigError (the file
// and key at fault), never anything else.
// The first byte says which: even, a rule's text; odd, a config file (comments allowed).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include <ipc/error.hpp>

#include "check.hpp"
#include "policy.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  try {
    if (data[0] % 2 == 0) {
      const ipcd::Rule rule = ipcd::Rule::parse(text);
      const ipcd::Rule again = ipcd::Rule::parse(rule.text());
      FUZZ_CHECK(again.text() == rule.text());
      FUZZ_CHECK(again.action() == rule.action() && again.direction() == rule.direction());
    } else {
      const auto document = nlohmann::json::parse(text, nullptr, false, true);
      if (document.is_discarded()) return 0;
      (void)ipcd::parse_config(document, "fuzz.json");
    }
  } catch (const ipc::Error& e) {
    FUZZ_CHECK(e.code() == ipc::ErrorCode::bad_request);
  } catch (const ipcd::ConfigError&) {
    // Refused naming the file and the key: what ipcd says and exits 2 on.
  }
  return 0;
}
