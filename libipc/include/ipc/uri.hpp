// Uri: where a service is (DESIGN §4).
//
//   SCHEME://[USER[:PASSWORD]@]HOST[:PORT]/SERVICE      tcp, tls, ws, wss
//   unix:///SERVICE, unix:SERVICE, or a bare SERVICE     the local service of that name
//
// Default ports: tcp 9000, tls 9443, ws 80, wss 443. IPv6 hosts go in brackets.
// USER and PASSWORD may be percent-encoded. Uri::parse validates everything and throws
// ipc::Error(bad_request) naming what is wrong.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "ipc/service_name.hpp"

namespace ipc {

enum class Scheme { unix_socket, tcp, tls, ws, wss };

[[nodiscard]] std::string_view to_string(Scheme scheme) noexcept;
[[nodiscard]] std::optional<Scheme> parse_scheme(std::string_view text) noexcept;
// 0 for unix.
[[nodiscard]] std::uint16_t default_port(Scheme scheme) noexcept;

class Uri {
 public:
  static constexpr std::size_t max_length = 2048;

  // Throws ipc::Error(bad_request).
  [[nodiscard]] static Uri parse(std::string_view text);
  // A local service.
  explicit Uri(ServiceName service) : service_(std::move(service)) {}

  [[nodiscard]] Scheme scheme() const noexcept { return scheme_; }
  [[nodiscard]] bool is_local() const noexcept { return scheme_ == Scheme::unix_socket; }
  [[nodiscard]] const std::string& user() const noexcept { return user_; }
  [[nodiscard]] const std::optional<std::string>& password() const noexcept { return password_; }
  // Without brackets for IPv6; lower case.
  [[nodiscard]] const std::string& host() const noexcept { return host_; }
  [[nodiscard]] bool host_is_ipv6() const noexcept { return host_is_ipv6_; }
  [[nodiscard]] std::uint16_t port() const noexcept { return port_; }
  [[nodiscard]] const ServiceName& service() const noexcept { return service_; }

  // "host:port", "[v6]:port".
  [[nodiscard]] std::string authority() const;
  // Canonical form with the port always written; the password shown as "***" (for logs, status).
  [[nodiscard]] std::string str() const { return format(false); }
  // Canonical form with the password, percent-encoded (for handing to a protocol daemon).
  [[nodiscard]] std::string str_with_secrets() const { return format(true); }

  friend bool operator==(const Uri&, const Uri&) = default;

 private:
  Uri() : service_("x") {}
  [[nodiscard]] std::string format(bool with_password) const;

  Scheme scheme_ = Scheme::unix_socket;
  std::string user_;
  std::optional<std::string> password_;
  std::string host_;
  bool host_is_ipv6_ = false;
  std::uint16_t port_ = 0;
  ServiceName service_;
};

}  // namespace ipc
