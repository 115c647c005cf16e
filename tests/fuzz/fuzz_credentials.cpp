// tcpd's secrets as an operator writes them: `--psk ID:HEXKEY`, a `--psk-file` (one a line,
// '#' comments) and the lines of the `--users` file ("user:salt:hash", hex). A key that is taken
// is one of 16 to 64 bytes under an identity that is a valid name, found again by it, and the same
// flag (or file) twice is refused; a file's refusal names the file and a line, and never holds a
// line's key; a users line that is taken names a valid user. Everything else is refused with
// std::invalid_argument. The first byte says which: 0 mod 3, a --psk flag; 1, a users-file line;
// 2, a --psk-file's text.
#include <algorithm>
#include <cctype>
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
    if (data[0] % 3 == 2) {
      tcpd::PskKeys keys;
      try {
        keys.add_lines(text, "F");
      } catch (const std::invalid_argument& e) {
        const std::string why = e.what();
        FUZZ_CHECK(why.rfind("F:", 0) == 0);
        // The reason names its line and quotes that line's identity at most, never the key after it
        // (checked for a key of 16 hex digits or more that the identity does not itself contain).
        const auto second = why.find(':', 2);
        FUZZ_CHECK(second != std::string::npos && second > 2);
        const std::size_t number = std::stoul(why.substr(2, second - 2));
        std::size_t at = 0;
        for (std::size_t n = 1; n < number; ++n) {
          at = text.find('\n', at);
          FUZZ_CHECK(at != std::string_view::npos);
          ++at;
        }
        const auto line = text.substr(at, std::min(text.find('\n', at), text.size()) - at);
        const auto colon = line.find(':');
        if (colon != std::string_view::npos) {
          auto key = line.substr(colon + 1);
          while (!key.empty() && (key.back() == ' ' || key.back() == '\t' || key.back() == '\r')) key.remove_suffix(1);
          const bool hex = key.size() >= 16 && std::all_of(key.begin(), key.end(), [](char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; });
          if (hex && line.substr(0, colon).find(key) == std::string_view::npos) FUZZ_CHECK(why.find(key) == std::string::npos);
        }
        throw std::invalid_argument("refused");
      }
      // Every line that is not blank or a comment gave one key, found by its identity.
      std::size_t lines = 0;
      for (std::size_t at = 0; at <= text.size();) {
        const auto end = std::min(text.find('\n', at), text.size());
        auto line = text.substr(at, end - at);
        while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
        while (!line.empty() && (line.back() == ' ' || line.back() == '\t' || line.back() == '\r')) line.remove_suffix(1);
        if (!line.empty() && line.front() != '#') {
          ++lines;
          const auto* key = keys.find(line.substr(0, line.find(':')));
          FUZZ_CHECK(key != nullptr);
          FUZZ_CHECK(key->size() >= tcpd::PskKeys::min_key && key->size() <= tcpd::PskKeys::max_key);
        }
        at = end + 1;
      }
      FUZZ_CHECK(keys.empty() == (lines == 0));
      if (lines > 0) {
        bool refused = false;
        try {
          keys.add_lines(text, "F");
        } catch (const std::invalid_argument&) {
          refused = true;
        }
        FUZZ_CHECK(refused);
      }
    } else if (data[0] % 3 == 0) {
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
