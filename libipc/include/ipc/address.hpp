// IP addresses as rules and logs see them: one spelling per address, so that a rule written for
// 127.0.0.1 also meets the peer that arrives as ::ffff:127.0.0.1 on a dual-stack listener.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ipc {

// The canonical text of a numeric address: IPv4 dotted decimal; IPv6 as inet_ntop writes it
// (lower case, zeros compressed), an IPv4-mapped IPv6 address (::ffff:a.b.c.d) as the IPv4
// address. Not an address (a host name, "0x7f000001", "127.1"): nullopt.
[[nodiscard]] std::optional<std::string> canonical_address(std::string_view text);

// An IPv4-mapped IPv6 address (::ffff:a.b.c.d) as the IPv4 address it is; any other unchanged.
[[nodiscard]] boost::asio::ip::address unmapped(const boost::asio::ip::address& address);
// The canonical text of an address a socket gave (as canonical_address above).
[[nodiscard]] std::string canonical_address(const boost::asio::ip::address& address);

// "1.2.3.4:80" or "[2001:db8::1]:80", the address canonical as above.
[[nodiscard]] std::string endpoint_text(const boost::asio::ip::tcp::endpoint& endpoint);

// A port number: 1 to 65535 (0 too when `zero_allowed`), decimal digits only ("12abc", "+1",
// " 80" are not ports); nullopt otherwise.
[[nodiscard]] std::optional<std::uint16_t> parse_port(std::string_view text, bool zero_allowed = false);

// "HOST:PORT", "[IPV6]:PORT" split in two (the brackets removed); the port checked as above.
// Throws std::invalid_argument saying why.
struct HostPort {
  std::string host;
  std::uint16_t port = 0;
};
[[nodiscard]] HostPort split_host_port(std::string_view text, bool zero_allowed = false);

// A listening address for --listen: "127.0.0.1:9000", "[::1]:9000", "localhost:9000" (port 0:
// any free one). Host names other than localhost are refused: a listener is bound to an
// address. Throws std::invalid_argument saying why.
[[nodiscard]] boost::asio::ip::tcp::endpoint parse_listen(std::string_view text);

}  // namespace ipc
