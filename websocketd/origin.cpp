// Origin checks (see origin.hpp).
#include "origin.hpp"

#include <cctype>
#include <ipc/glob.hpp>

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
      if (ipc::glob_match(pattern, origin, ipc::Case::insensitive)) return true;
    } else {
      const auto authority = authority_of(origin);
      if (!authority.empty() && ipc::glob_match(pattern, authority, ipc::Case::insensitive)) return true;
    }
  }
  return false;
}

}  // namespace websocketd
