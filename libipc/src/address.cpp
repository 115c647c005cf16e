// Canonical address text (see address.hpp).
#include "ipc/address.hpp"

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

}  // namespace ipc
