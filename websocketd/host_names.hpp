// Which names websocketd answers to (the Host header, --host): the defence against DNS rebinding.
//
// A page on evil.example whose name the attacker then points at this host's address is, to the
// browser, still evil.example: its requests carry `Host: evil.example:PORT` and the same-origin
// Origin `http://evil.example:PORT`, so an Origin check alone lets it in. Every request's Host
// must therefore be one of this websocketd's own names before anything else is looked at:
//
//   * the address the connection arrived on (its local address, canonical: "127.0.0.1", "[::1]");
//   * on a loopback connection, `localhost` and names under `.localhost` (RFC 6761);
//   * this machine's host name (gethostname);
//   * the --host patterns (globs, case-insensitive: `pong.example.org`, `*.example.org`);
//     `*` alone turns the check off.
//
// The port in Host is not compared (a proxy in front may use another one); a missing or
// malformed Host is refused too.
#pragma once

#include <boost/asio/ip/address.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace websocketd {

class HostPolicy {
 public:
  HostPolicy() : HostPolicy(std::vector<std::string>{}) {}
  explicit HostPolicy(std::vector<std::string> patterns, std::string machine_name = current_machine_name());

  // `host` is the Host header ("" when absent), `local` the address the connection arrived on.
  [[nodiscard]] bool allows(std::string_view host, const boost::asio::ip::address& local) const;
  [[nodiscard]] const std::vector<std::string>& patterns() const noexcept { return patterns_; }

  // gethostname(), lower case ("" when it fails).
  [[nodiscard]] static std::string current_machine_name();

 private:
  std::vector<std::string> patterns_;
  std::string machine_name_;
};

// The host part of a Host header: "Example.org:80" -> "example.org", "[::1]:80" -> "::1" (lower
// case, one trailing dot dropped); "" when malformed (empty, bad port, spaces, unbalanced brackets).
[[nodiscard]] std::string host_of(std::string_view header);

}  // namespace websocketd
