// ServiceName: a validated service name (DESIGN §2). 1 to 64 characters of [A-Za-z0-9._-],
// not "." or "..". Validated once, at construction, so a name can never become a path
// traversal when it is joined to the run directory.
#pragma once

#include <compare>
#include <string>
#include <string_view>

namespace ipc {

class ServiceName {
 public:
  static constexpr std::size_t max_length = 64;

  // Throws ipc::Error(bad_request) with the reason when `name` is not a valid service name.
  explicit ServiceName(std::string_view name);

  // Empty string when valid, else why not.
  [[nodiscard]] static std::string why_invalid(std::string_view name);
  [[nodiscard]] static bool is_valid(std::string_view name) { return why_invalid(name).empty(); }

  [[nodiscard]] const std::string& str() const noexcept { return name_; }
  friend auto operator<=>(const ServiceName&, const ServiceName&) = default;

 private:
  std::string name_;
};

}  // namespace ipc
