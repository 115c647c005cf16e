// URI parsing and formatting (DESIGN §4).
#include "ipc/uri.hpp"

#include <algorithm>

#include <arpa/inet.h>

#include <array>
#include <utility>

#include "ipc/address.hpp"
#include "ipc/error.hpp"
#include "ipc/text.hpp"

namespace ipc {
namespace {

constexpr std::array<std::pair<Scheme, std::string_view>, 5> schemes{{
    {Scheme::unix_socket, "unix"},
    {Scheme::tcp, "tcp"},
    {Scheme::tls, "tls"},
    {Scheme::ws, "ws"},
    {Scheme::wss, "wss"},
}};

[[noreturn]] void fail(std::string_view uri, const std::string& why) {
  std::string shown(uri.substr(0, 200));
  for (char& c : shown) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  }
  throw Error(ErrorCode::bad_request, "invalid URI '" + shown + "': " + why);
}


int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  c = ascii_lower(c);
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

std::string percent_decode(std::string_view uri, std::string_view in, const char* what) {
  std::string out;
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out += in[i];
      continue;
    }
    if (i + 2 >= in.size()) fail(uri, std::string("bad percent escape in ") + what);
    const int hi = hex_value(in[i + 1]);
    const int lo = hex_value(in[i + 2]);
    if (hi < 0 || lo < 0) fail(uri, std::string("bad percent escape in ") + what);
    const char c = static_cast<char>(hi * 16 + lo);
    if (c == '\0') fail(uri, std::string("NUL byte in ") + what);
    out += c;
    i += 2;
  }
  return out;
}

std::string percent_encode(std::string_view in) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : in) {
    const bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                       c == '-' || c == '.' || c == '_' || c == '~';
    if (plain) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

bool is_dns_name(std::string_view host) {
  if (host.empty() || host.size() > 253) return false;
  std::size_t label = 0;
  char previous = '.';
  for (char c : host) {
    if (c == '.') {
      if (label == 0 || previous == '-') return false;
      label = 0;
    } else {
      const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
      if (!ok || (label == 0 && c == '-') || ++label > 63) return false;
    }
    previous = c;
  }
  return previous != '-';
}

bool looks_numeric(std::string_view host) {
  for (char c : host) {
    if (!((c >= '0' && c <= '9') || c == '.')) return false;
  }
  return true;
}

}  // namespace

std::string_view to_string(Scheme scheme) noexcept {
  for (const auto& [s, name] : schemes) {
    if (s == scheme) return name;
  }
  return "unix";
}

std::optional<Scheme> parse_scheme(std::string_view text) noexcept {
  for (const auto& [s, name] : schemes) {
    if (name == text) return s;
  }
  return std::nullopt;
}

std::uint16_t default_port(Scheme scheme) noexcept {
  switch (scheme) {
    case Scheme::unix_socket: return 0;
    case Scheme::tcp: return 9000;
    case Scheme::tls: return 9443;
    case Scheme::ws: return 80;
    case Scheme::wss: return 443;
  }
  return 0;
}

Uri Uri::parse(std::string_view text) {
  if (text.empty()) fail(text, "empty");
  if (text.size() > max_length) fail(text, "longer than " + std::to_string(max_length) + " characters");
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f) fail(text, "contains white space or control characters");
  }

  auto local = [&](std::string_view name) {
    if (auto why = ServiceName::why_invalid(name); !why.empty()) fail(text, why);
    return Uri(ServiceName(name));
  };

  const auto sep = text.find("://");
  if (sep == std::string_view::npos) {
    // "unix:SERVICE" or a bare "SERVICE".
    const auto colon = text.find(':');
    if (colon == std::string_view::npos) return local(text);
    std::string scheme_name;
    for (char c : text.substr(0, colon)) scheme_name += ascii_lower(c);
    if (scheme_name != "unix") fail(text, "expected SCHEME://HOST/SERVICE, unix:SERVICE or SERVICE");
    return local(text.substr(colon + 1));
  }

  std::string scheme_name;
  for (char c : text.substr(0, sep)) scheme_name += ascii_lower(c);
  const auto scheme = parse_scheme(scheme_name);
  if (!scheme) fail(text, "unknown scheme '" + scheme_name + "' (expected unix, tcp, tls, ws or wss)");

  std::string_view rest = text.substr(sep + 3);
  const auto slash = rest.find('/');
  if (slash == std::string_view::npos) fail(text, "missing '/SERVICE' after the host");
  std::string_view authority = rest.substr(0, slash);
  std::string_view path = rest.substr(slash + 1);
  if (path.find('/') != std::string_view::npos) fail(text, "the service part must be one name, without '/'");

  if (*scheme == Scheme::unix_socket) {
    if (!authority.empty()) fail(text, "unix URIs have no host: write unix:///SERVICE");
    return local(path);
  }

  Uri uri;
  uri.scheme_ = *scheme;
  if (auto why = ServiceName::why_invalid(path); !why.empty()) fail(text, why);
  uri.service_ = ServiceName(path);

  // USER[:PASSWORD]@ ; the last '@' ends it so an (encoded or not) '@' may sit in a password.
  bool user_alone = false;  // USER@ without a password
  if (const auto at = authority.rfind('@'); at != std::string_view::npos) {
    const std::string_view userinfo = authority.substr(0, at);
    authority = authority.substr(at + 1);
    const auto colon = userinfo.find(':');
    user_alone = colon == std::string_view::npos;
    uri.user_ = percent_decode(text, userinfo.substr(0, colon), "the user name");
    if (uri.user_.empty()) fail(text, "empty user name before '@'");
    if (colon != std::string_view::npos)
      uri.password_ = percent_decode(text, userinfo.substr(colon + 1), "the password");
  }

  // HOST[:PORT], IPv6 in brackets.
  std::string_view port_text;
  bool has_port = false;
  if (!authority.empty() && authority.front() == '[') {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) fail(text, "missing ']' after an IPv6 address");
    const std::string v6(authority.substr(1, close - 1));
    in6_addr addr{};
    if (::inet_pton(AF_INET6, v6.c_str(), &addr) != 1) fail(text, "'" + v6 + "' is not an IPv6 address");
    // One spelling per address (ipc::canonical_address): an IPv4-mapped one is the IPv4 address.
    uri.host_ = canonical_address(v6).value_or(v6);
    uri.host_is_ipv6_ = uri.host_.find(':') != std::string::npos;
    const std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') fail(text, "unexpected characters after ']'");
      port_text = after.substr(1);
      has_port = true;
    }
  } else {
    const auto colon = authority.find(':');
    if (colon != std::string_view::npos && authority.find(':', colon + 1) != std::string_view::npos) {
      // USER@PASSWORD:HOST:PORT, as the first README of the project wrote it (tls://user@passwd:
      // example.com:9000/authd): said as such, without repeating the password.
      const auto second = authority.find(':', colon + 1);
      const std::string_view middle = authority.substr(colon + 1, second - colon - 1);
      const std::string_view last = authority.substr(second + 1);
      const bool seeds = user_alone && colon > 0 && !middle.empty() && last.find(':') == std::string_view::npos &&
                         !last.empty() && std::all_of(last.begin(), last.end(), [](char c) { return c >= '0' && c <= '9'; }) &&
                         std::any_of(middle.begin(), middle.end(), [](char c) { return c == '.' || (c >= 'g' && c <= 'z') || (c >= 'G' && c <= 'Z'); });
      if (seeds)
        throw Error(ErrorCode::bad_request, "invalid URI: USER@PASSWORD:HOST:PORT is not how a password is given; write "
                                            "USER:PASSWORD@HOST:PORT, e.g. tls://alice:secret@example.com:9000/authd");
      fail(text, "an IPv6 address must be written in brackets, e.g. tcp://[::1]:9000/pong");
    }
    const std::string_view host = authority.substr(0, colon);
    if (host.empty()) fail(text, "missing host");
    for (char c : host) uri.host_ += ascii_lower(c);
    if (looks_numeric(uri.host_)) {
      in_addr addr{};
      if (::inet_pton(AF_INET, uri.host_.c_str(), &addr) != 1)
        fail(text, "'" + uri.host_ + "' is not an IPv4 address");
    } else if (in_addr addr{}; ::inet_aton(uri.host_.c_str(), &addr) != 0) {
      // "0x7f000001", "0x7f.1": the resolver takes these for addresses; rules would not.
      char dotted[INET_ADDRSTRLEN];
      fail(text, "'" + uri.host_ + "' is a numeric address in another form than dotted decimal: write it as " +
                     ::inet_ntop(AF_INET, &addr, dotted, sizeof dotted));
    } else if (!is_dns_name(uri.host_)) {
      fail(text, "'" + std::string(host) + "' is not a valid host name");
    }
    if (colon != std::string_view::npos) {
      port_text = authority.substr(colon + 1);
      has_port = true;
    }
  }

  // 0.0.0.0 and :: are no address to connect to; the kernel takes them for this host, past
  // every rule written for 127.0.0.0/8 or ::1.
  if (uri.host_ == "0.0.0.0" || uri.host_ == "::")
    fail(text, "'" + uri.host_ + "' is the unspecified address, not one to connect to (for this host write " +
                   (uri.host_is_ipv6_ ? "[::1]" : "127.0.0.1") + ")");

  uri.port_ = default_port(*scheme);
  if (has_port) {
    const auto port = parse_port(port_text);
    if (!port) fail(text, "the port must be a number from 1 to 65535");
    uri.port_ = *port;
  }
  // What is handed on is the canonical form: it must parse again, within the same limit.
  if (uri.format(true).size() > max_length)
    fail(text, "longer than " + std::to_string(max_length) +
                   " characters written out in full (with the port, the user name and password percent-encoded)");
  return uri;
}

std::string Uri::authority() const {
  std::string out;
  if (host_is_ipv6_) {
    out.append("[").append(host_).append("]");
  } else {
    out.append(host_);
  }
  return out.append(":").append(std::to_string(port_));
}

std::string Uri::format(bool with_password) const {
  if (is_local()) return "unix:///" + service_.str();
  std::string out(to_string(scheme_));
  out += "://";
  if (!user_.empty()) {
    out += percent_encode(user_);
    if (password_) out.append(":").append(with_password ? percent_encode(*password_) : "***");
    out += '@';
  }
  out += authority();
  out += '/';
  out += service_.str();
  return out;
}

}  // namespace ipc
