// The names websocketd checks in every browser's request: the Host header against its own names
// (the DNS-rebinding defence) and the Origin against the --origin patterns (cross-site WebSocket
// hijacking). Properties, with no --host and no --origin given: a Host that is let in on a
// loopback connection names 127.0.0.1, localhost, a name under .localhost or this machine; on
// another connection only that connection's address or this machine; and an Origin that is let
// in has exactly the Host as its host[:port]. The input is "HOST\nORIGIN".
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <boost/asio/ip/address.hpp>

#include "check.hpp"
#include "host_names.hpp"
#include "origin.hpp"

namespace {

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const auto newline = input.find('\n');
  const std::string_view host = input.substr(0, newline);
  const std::string_view origin = newline == std::string_view::npos ? std::string_view() : input.substr(newline + 1);

  const std::string name = websocketd::host_of(host);
  for (char c : name) FUZZ_CHECK(!(c >= 'A' && c <= 'Z'));
  FUZZ_CHECK(websocketd::host_of(name.find(':') != std::string::npos ? "[" + name + "]" : name) == name);

  const websocketd::HostPolicy names({}, "box");
  const auto loopback = boost::asio::ip::make_address("127.0.0.1");
  const auto outside = boost::asio::ip::make_address("192.0.2.1");
  if (names.allows(host, loopback))
    FUZZ_CHECK(name == "127.0.0.1" || name == "localhost" || name.ends_with(".localhost") || name == "box");
  if (names.allows(host, outside)) FUZZ_CHECK(name == "192.0.2.1" || name == "box");

  const websocketd::OriginPolicy same_origin;
  if (!origin.empty() && same_origin.allows(origin, host)) {
    const auto scheme = origin.find("://");
    FUZZ_CHECK(scheme != std::string_view::npos);
    const auto authority = origin.substr(scheme + 3);
    FUZZ_CHECK(iequals(authority.substr(0, authority.find('/')), host));
  }
  return 0;
}
