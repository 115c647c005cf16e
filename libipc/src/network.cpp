// IPC_NETWORK parsing (DESIGN §4).
#include "ipc/network.hpp"

#include <cstdlib>

#include "ipc/error.hpp"

namespace ipc {
namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

}  // namespace

NetworkRoutes NetworkRoutes::parse(std::string_view text) {
  constexpr std::size_t max_text = 64 * 1024;
  if (text.size() > max_text) throw Error(ErrorCode::bad_request, "IPC_NETWORK is longer than 64 KiB");
  NetworkRoutes out;
  std::size_t index = 0;
  while (!text.empty()) {
    const auto semicolon = text.find(';');
    const std::string_view entry = trim(text.substr(0, semicolon));
    text = semicolon == std::string_view::npos ? std::string_view{} : text.substr(semicolon + 1);
    ++index;
    if (entry.empty()) continue;
    const auto where = "IPC_NETWORK entry " + std::to_string(index) + ": ";
    std::size_t space = 0;
    while (space < entry.size() && !is_space(entry[space])) ++space;
    const std::string_view name = entry.substr(0, space);
    const std::string_view uri_text = trim(entry.substr(space));
    if (uri_text.empty()) throw Error(ErrorCode::bad_request, where + "expected 'SERVICE URI'");
    if (auto why = ServiceName::why_invalid(name); !why.empty()) throw Error(ErrorCode::bad_request, where + why);
    ServiceName service(name);
    try {
      Uri uri = Uri::parse(uri_text);
      if (out.find(service) != nullptr)
        throw Error(ErrorCode::bad_request, "service '" + service.str() + "' is routed twice");
      out.routes_.push_back({std::move(service), std::move(uri)});
    } catch (const Error& e) {
      throw Error(e.code(), where + e.text());
    }
  }
  return out;
}

NetworkRoutes NetworkRoutes::from_environment() {
  const char* env = std::getenv("IPC_NETWORK");
  return env == nullptr ? NetworkRoutes{} : parse(env);
}

const Uri* NetworkRoutes::find(const ServiceName& service) const noexcept {
  for (const auto& route : routes_) {
    if (route.service == service) return &route.uri;
  }
  return nullptr;
}

}  // namespace ipc
