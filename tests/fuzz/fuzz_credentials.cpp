// tcpd's secrets as an operator writes them: `--psk ID:HEXKEY` and the lines of the `--users`
// file ("user:salt:hash", hex). A key that is taken is one of 16 to 64 bytes under an identity
// that is a valid name, found again by it, and the same flag twice is refused; a users line that
// is taken names a valid user. Everything else is refused with std::invalid_argument.
// The first byte says which: even, a --psk flag; odd, a users-file line.
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

#include "check.hpp"
#include "credentials.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  try {
    if (data[0] % 2 == 0) {
      tcpd::PskKeys keys;
      keys.add(text);
      const auto colon = text.find(':');
      FUZZ_CHECK(colon != std::string_view::npos);
      const std::string identity(text.substr(0, colon));
      FUZZ_CHECK(tcpd::valid_identity(identity));
      const tcpd::Key* key = keys.find(identity);
      FUZZ_CHECK(key != nullptr);
      FUZZ_CHECK(key->size() >= tcpd::PskKeys::min_key && key->size() <= tcpd::PskKeys::max_key);
      bool refused = false;
      try {
        keys.add(text);
      } catch (const std::invalid_argument&) {
        refused = true;
      }
      FUZZ_CHECK(refused);
    } else {
      tcpd::Users users;
      users.add_line(text);
      FUZZ_CHECK(!users.empty());
      FUZZ_CHECK(tcpd::valid_identity(std::string(text.substr(0, text.find(':')))));
    }
  } catch (const std::invalid_argument&) {
  }
  return 0;
}
