// Service name validation (DESIGN §2).
#include "ipc/service_name.hpp"

#include "ipc/error.hpp"

namespace ipc {
namespace {

bool allowed(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-';
}

// Shows a hostile name safely in an error message: control bytes as \xNN, cut when long.
std::string printable(std::string_view name) {
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : name.substr(0, 80)) {
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out += static_cast<char>(c);
    } else {
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  if (name.size() > 80) out += "...";
  return out;
}

}  // namespace

std::string ServiceName::why_invalid(std::string_view name) {
  if (name.empty()) return "invalid service name '': empty";
  if (name.size() > max_length)
    return "invalid service name '" + printable(name) + "': longer than 64 characters";
  if (name == "." || name == "..") return "invalid service name '" + printable(name) + "': not allowed";
  for (char c : name) {
    if (!allowed(c))
      return "invalid service name '" + printable(name) + "': only A-Z a-z 0-9 . _ - are allowed";
  }
  return {};
}

ServiceName::ServiceName(std::string_view name) {
  if (auto why = why_invalid(name); !why.empty()) throw Error(ErrorCode::bad_request, why);
  name_ = name;
}

}  // namespace ipc
