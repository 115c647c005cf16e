// Glob matching (see glob.hpp).
#include "ipc/glob.hpp"

#include "ipc/text.hpp"

namespace ipc {

bool glob_match(std::string_view pattern, std::string_view text, Case letter_case) noexcept {
  const bool fold = letter_case == Case::insensitive;
  auto same = [fold](char a, char b) { return fold ? ascii_lower(a) == ascii_lower(b) : a == b; };
  std::size_t p = 0, t = 0, star = std::string_view::npos, resume = 0;
  while (t < text.size()) {
    if (p < pattern.size() && (pattern[p] == '?' || (pattern[p] != '*' && same(pattern[p], text[t])))) {
      ++p;
      ++t;
    } else if (p < pattern.size() && pattern[p] == '*') {
      star = p++;  // remember the last star and try it matching nothing first
      resume = t;
    } else if (star != std::string_view::npos) {
      p = star + 1;  // let the last star swallow one more character
      t = ++resume;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

}  // namespace ipc
