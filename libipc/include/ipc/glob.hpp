// Glob matching for rules and origin patterns: '*' any run of characters, '?' one character.
// Iterative with a single backtrack point, so it runs in linear time in practice and a hostile
// name or header cannot make it blow up.
#pragma once

#include <string_view>

namespace ipc {

enum class Case { sensitive, insensitive };

[[nodiscard]] bool glob_match(std::string_view pattern, std::string_view text,
                              Case letter_case = Case::sensitive) noexcept;

}  // namespace ipc
