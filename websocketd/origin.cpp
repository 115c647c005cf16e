// Origin checks (see origin.hpp).
#include "origin.hpp"

#include <cctype>

namespace websocketd {
namespace {

bool same_char(char a, char b) noexcept {
  return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
}

bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (!same_char(a[i], b[i])) return false;
  return true;
}

// "https://host:port" -> "host:port"; "" when the origin has no "://".
std::string_view authority_of(std::string_view origin) noexcept {
  const auto sep = origin.find("://");
  if (sep == std::string_view::npos) return {};
  auto rest = origin.substr(sep + 3);
  return rest.substr(0, rest.find('/'));
}

}  // namespace

bool glob_match(std::string_view pattern, std::string_view text) noexcept {
  // Iterative matcher with one backtrack point for the last `*`: linear in practice, and no
  // recursion a hostile header could blow up.
  std::size_t p = 0, t = 0, star = std::string_view::npos, resume = 0;
  while (t < text.size()) {
    if (p < pattern.size() && (pattern[p] == '?' || (pattern[p] != '*' && same_char(pattern[p], text[t])))) {
      ++p;
      ++t;
    } else if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      resume = t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++resume;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

bool OriginPolicy::allows(std::string_view origin, std::string_view host) const {
  // No Origin: not a browser, and a non-browser client can claim any origin anyway.
  if (origin.empty()) return true;
  if (patterns_.empty()) {
    const auto authority = authority_of(origin);
    return !authority.empty() && iequals(authority, host);
  }
  for (const auto& pattern : patterns_) {
    if (pattern == "*") return true;
    if (pattern.find("://") != std::string::npos) {
      if (glob_match(pattern, origin)) return true;
    } else {
      const auto authority = authority_of(origin);
      if (!authority.empty() && glob_match(pattern, authority)) return true;
    }
  }
  return false;
}

}  // namespace websocketd
