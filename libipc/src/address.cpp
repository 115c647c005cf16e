// Canonical address text (see address.hpp).
#include "ipc/address.hpp"

#include <stdexcept>

#include <arpa/inet.h>

#include <cstring>

namespace ipc {

std::optional<std::string> canonical_address(std::string_view text) {
  if (text.size() >= INET6_ADDRSTRLEN) return std::nullopt;
  const std::string s(text);
  char out[INET6_ADDRSTRLEN];
  in_addr v4{};
  if (::inet_pton(AF_INET, s.c_str(), &v4) == 1) return s;
  in6_addr v6{};
  if (::inet_pton(AF_INET6, s.c_str(), &v6) != 1) return std::nullopt;
  if (IN6_IS_ADDR_V4MAPPED(&v6)) {
    std::memcpy(&v4, v6.s6_addr + 12, sizeof v4);
    return std::string(::inet_ntop(AF_INET, &v4, out, sizeof out));
  }
  return std::string(::inet_ntop(AF_INET6, &v6, out, sizeof out));
}

boost::asio::ip::address unmapped(const boost::asio::ip::address& address) {
  if (address.is_v6() && address.to_v6().is_v4_mapped())
    return boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, address.to_v6());
  return address;
}

std::string canonical_address(const boost::asio::ip::address& address) {
  const std::string text = address.to_string();
  return canonical_address(text).value_or(text);
}

std::string endpoint_text(const boost::asio::ip::tcp::endpoint& endpoint) {
  const std::string canonical = canonical_address(endpoint.address());
  // Appended piece by piece: GCC 12's -Wrestrict misfires on "[" + s + "]" at -O2.
  std::string out;
  const bool v6 = canonical.find(':') != std::string::npos;
  if (v6) out += '[';
  out += canonical;
  if (v6) out += ']';
  out += ':';
  out += std::to_string(endpoint.port());
  return out;
}

std::optional<std::uint16_t> parse_port(std::string_view text, bool zero_allowed) {
  if (text.empty() || text.size() > 5) return std::nullopt;
  unsigned long port = 0;
  for (const char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    port = port * 10 + static_cast<unsigned long>(c - '0');
  }
  if (port > 65535 || (port == 0 && !zero_allowed)) return std::nullopt;
  return static_cast<std::uint16_t>(port);
}

HostPort split_host_port(std::string_view text, bool zero_allowed) {
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0) throw std::invalid_argument("'" + std::string(text) + "': expected HOST:PORT");
  std::string_view host = text.substr(0, colon);
  if (host.front() == '[') {
    if (host.size() < 3 || host.back() != ']')
      throw std::invalid_argument("'" + std::string(text) + "': an IPv6 address goes in brackets, [::1]:PORT");
    host = host.substr(1, host.size() - 2);
  } else if (host.find(':') != std::string_view::npos) {
    throw std::invalid_argument("'" + std::string(text) + "': an IPv6 address goes in brackets, [::1]:PORT");
  }
  const auto port = parse_port(text.substr(colon + 1), zero_allowed);
  if (!port)
    throw std::invalid_argument("'" + std::string(text) + "': the port must be a number from " +
                                (zero_allowed ? "0" : "1") + " to 65535");
  return {std::string(host), *port};
}

boost::asio::ip::tcp::endpoint parse_listen(std::string_view text) {
  HostPort split = split_host_port(text, true);
  if (split.host == "localhost") split.host = "127.0.0.1";
  boost::system::error_code ec;
  const auto address = boost::asio::ip::make_address(split.host, ec);
  if (ec) throw std::invalid_argument("'" + std::string(text) + "': '" + split.host + "' is not an IP address (or localhost)");
  return {address, split.port};
}

}  // namespace ipc
