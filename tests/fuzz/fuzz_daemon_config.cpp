// A daemon's config file (DESIGN §13), the JSON object whose keys are its long flags: what is
// taken turns into "--key value" tokens naming only flags the daemon has (never config, help or
// version), which the flags' own parser then takes or refuses; what is not taken is refused with
// the reason (std::invalid_argument), never anything else.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <ipc/command_line.hpp>

#include "check.hpp"

namespace {

// Flags of every kind a daemon has (tcpd's, mostly): one value, repeatable, several words, a
// switch, numbers.
const ipc::po::options_description& flags() {
  static const ipc::po::options_description options = [] {
    ipc::po::options_description o;
    o.add_options()("listen", ipc::po::value<std::vector<std::string>>(), "")(
        "psk", ipc::po::value<std::vector<std::string>>()->composing(), "")(
        "allow", ipc::po::value<std::vector<std::string>>()->multitoken()->composing(), "")("no-listen", "")(
        "max-connections", ipc::po::value<std::size_t>(), "")("timeout", ipc::po::value<double>(), "")(
        "name", ipc::po::value<std::string>(), "")("rundir", ipc::po::value<std::string>(), "")(
        "log-level", ipc::po::value<std::string>(), "")("config", ipc::po::value<std::string>(), "");
    return o;
  }();
  return options;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> tokens;
  try {
    tokens = ipc::config_tokens(text, flags());
  } catch (const std::invalid_argument&) {
    return 0;
  }
  for (const auto& token : tokens) {
    if (!token.starts_with("--")) continue;  // a value (which may itself start with "--": see below)
    const std::string key = token.substr(2);
    FUZZ_CHECK(key != "config" && key != "help" && key != "version");
  }
  try {
    ipc::po::variables_map vm;
    ipc::po::store(ipc::po::command_line_parser(tokens).options(flags()).run(), vm);
  } catch (const ipc::po::error&) {
    // A value the flag does not take ("abc" for a number): the daemon says so and exits 2.
  }
  return 0;
}
