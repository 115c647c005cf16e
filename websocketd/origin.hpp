// Which web pages may open WebSocket connections (DESIGN §11, --origin).
//
// A browser sends the page's origin ("https://app.example.org:8443") with every WebSocket
// handshake; without a check, any page on the web could reach the local services through a
// browser that runs on this machine (cross-site WebSocket hijacking). Patterns are globs
// (`*`, `?`), case-insensitive: with "://" they match the whole origin
// (`https://*.example.org`), without it the origin's host[:port] (`localhost:*`). `*` alone
// allows every origin, including "null".
//
// A request without Origin is not from a browser and is always allowed (a non-browser client
// could send any Origin it likes). With no pattern configured, only pages served by this
// websocketd itself are allowed (the origin's host[:port] equals the Host header).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace websocketd {

class OriginPolicy {
 public:
  OriginPolicy() = default;
  explicit OriginPolicy(std::vector<std::string> patterns) : patterns_(std::move(patterns)) {}

  // `origin` is the Origin header (empty when absent), `host` the Host header.
  [[nodiscard]] bool allows(std::string_view origin, std::string_view host) const;
  [[nodiscard]] const std::vector<std::string>& patterns() const noexcept { return patterns_; }

 private:
  std::vector<std::string> patterns_;
};

}  // namespace websocketd
