// ipcd's policy: rule parsing and matching, redirections, routes, the config file (DESIGN §9).
#include "policy.hpp"
#include <ipc/text.hpp>

#include <arpa/inet.h>
#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <ipc/address.hpp>
#include <ipc/file.hpp>
#include <ipc/glob.hpp>
#include <set>
#include <sstream>

namespace ipcd {

using ipc::Error;
using ipc::ErrorCode;

std::string_view to_string(Action action) noexcept { return action == Action::allow ? "allow" : "deny"; }
std::string_view to_string(Direction direction) noexcept { return direction == Direction::in ? "in" : "out"; }

namespace {


bool glob(std::string_view pattern, std::string_view text, bool fold_case) {
  return ipc::glob_match(pattern, text, fold_case ? ipc::Case::insensitive : ipc::Case::sensitive);
}

[[noreturn]] void bad(const std::string& what) { throw Error(ErrorCode::bad_request, what); }

// Not ::isdigit: a byte of a UTF-8 name is a negative char, and isdigit of a negative value is undefined.
bool all_digits(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool is_glob_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
         c == '-' || c == '*' || c == '?';
}

// An IP address as 16 bytes (IPv4 mapped) plus its family.
struct Address {
  std::array<std::uint8_t, 16> bytes{};
  bool v4 = false;
};

std::optional<Address> parse_address(std::string_view text) {
  Address a;
  const std::string s(text);
  in_addr v4{};
  if (::inet_pton(AF_INET, s.c_str(), &v4) == 1) {
    a.v4 = true;
    std::memcpy(a.bytes.data() + 12, &v4, 4);
    a.bytes[10] = a.bytes[11] = 0xff;
    return a;
  }
  in6_addr v6{};
  if (::inet_pton(AF_INET6, s.c_str(), &v6) == 1) {
    std::memcpy(a.bytes.data(), &v6, 16);
    // An IPv4-mapped IPv6 address (::ffff:1.2.3.4) is the IPv4 address.
    static constexpr std::uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    a.v4 = std::memcmp(a.bytes.data(), mapped, 12) == 0;
    return a;
  }
  return std::nullopt;
}

bool in_block(const Address& address, const Address& network, int prefix) {
  if (address.v4 != network.v4) return false;
  int bits = network.v4 ? prefix + 96 : prefix;
  for (std::size_t i = 0; i < 16 && bits > 0; ++i, bits -= 8) {
    const std::uint8_t mask = bits >= 8 ? 0xff : static_cast<std::uint8_t>(0xff << (8 - bits));
    if ((address.bytes[i] & mask) != (network.bytes[i] & mask)) return false;
  }
  return true;
}

std::optional<uid_t> lookup_user(const std::string& name) {
  std::vector<char> buffer(16384);
  passwd pw{};
  passwd* result = nullptr;
  if (::getpwnam_r(name.c_str(), &pw, buffer.data(), buffer.size(), &result) != 0 || result == nullptr)
    return std::nullopt;
  return pw.pw_uid;
}

std::optional<gid_t> lookup_group(const std::string& name) {
  std::vector<char> buffer(16384);
  group gr{};
  group* result = nullptr;
  if (::getgrnam_r(name.c_str(), &gr, buffer.data(), buffer.size(), &result) != 0 || result == nullptr)
    return std::nullopt;
  return gr.gr_gid;
}

// Is the client a member of group `wanted`: its primary group, or one of its supplementary ones?
bool in_group(const ClientCredentials& client, gid_t wanted) {
  return client.gid == wanted || std::find(client.groups.begin(), client.groups.end(), wanted) != client.groups.end();
}

}  // namespace

struct Rule::PeerPattern {
  enum class Kind { any, endpoint, uid, gid, identity } kind = Kind::any;
  // endpoint
  std::optional<ipc::Scheme> scheme;  // nullopt: any scheme
  std::string host_glob;              // lower case, "*" for any
  std::optional<Address> network;     // set for an address or CIDR block
  int prefix = 0;
  std::uint16_t port = 0;             // 0: any
  // uid / gid / identity
  uid_t uid = 0;
  gid_t gid = 0;
  std::string identity_glob;

  [[nodiscard]] bool host_matches(std::string_view host) const {
    if (network) {
      const auto address = parse_address(host);
      return address && in_block(*address, *network, prefix);
    }
    // One spelling per address: `tcp:127.*` also meets ::ffff:127.0.0.1.
    if (const auto canonical = ipc::canonical_address(host)) return glob(host_glob, *canonical, true);
    return glob(host_glob, host, true);
  }

  // Could HOST meet an address? A block or an address does; a glob only when every character it
  // must match literally is one an address's text has (hex digits, '.', ':'): "127.*" could,
  // "*.example.org" never.
  [[nodiscard]] bool reads_addresses() const {
    if (kind != Kind::endpoint) return false;
    if (network) return true;
    return std::all_of(host_glob.begin(), host_glob.end(), [](char c) {
      return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || c == '.' || c == ':' || c == '*' || c == '?';
    });
  }
};

Rule Rule::parse(std::string_view text) {
  std::istringstream in{std::string(text)};
  std::vector<std::string> words;
  for (std::string word; in >> word;) words.push_back(word);
  if (words.size() != 4)
    bad("rule '" + std::string(text) + "': expected four words ACTION DIRECTION SERVICE PEER, got " +
        std::to_string(words.size()));
  return parse(words[0], words[1], words[2], words[3]);
}

Rule Rule::parse(std::string_view action, std::string_view direction, std::string_view service, std::string_view peer) {
  Rule rule;
  if (action == "allow") {
    rule.action_ = Action::allow;
  } else if (action == "deny") {
    rule.action_ = Action::deny;
  } else {
    bad("unknown action '" + std::string(action) + "' (expected allow or deny)");
  }
  if (direction == "in") {
    rule.direction_ = Direction::in;
  } else if (direction == "out") {
    rule.direction_ = Direction::out;
  } else {
    bad("unknown direction '" + std::string(direction) + "' (expected in or out)");
  }
  if (service.empty() || service.size() > ipc::ServiceName::max_length ||
      !std::all_of(service.begin(), service.end(), is_glob_char) || service == "." || service == "..")
    bad("invalid service pattern '" + std::string(service) + "' (a name or glob of A-Z a-z 0-9 . _ - * ?)");
  rule.service_glob_ = service;

  auto pattern = std::make_shared<PeerPattern>();
  const std::string peer_text(peer);
  const auto colon = peer_text.find(':');
  const std::string kind = colon == std::string::npos ? "" : peer_text.substr(0, colon);
  const std::string value = colon == std::string::npos ? "" : peer_text.substr(colon + 1);
  const bool out = rule.direction_ == Direction::out;
  if (peer_text == "*") {
    pattern->kind = PeerPattern::Kind::any;
  } else if (kind == "uid" || kind == "user" || kind == "group") {
    if (!out) bad("peer '" + peer_text + "': " + kind + ": selectors only fit out rules (local clients)");
    if (kind == "uid") {
      // (uid_t)-1 is "no uid" (ClientCredentials' default), so it is not a uid a rule may name.
      if (!all_digits(value) || value.size() > 10 || std::stoull(value) >= static_cast<uid_t>(-1))
        bad("peer '" + peer_text + "': uid: takes a number from 0 to " + std::to_string(static_cast<uid_t>(-1) - 1));
      pattern->kind = PeerPattern::Kind::uid;
      pattern->uid = static_cast<uid_t>(std::stoull(value));
    } else if (kind == "user") {
      const auto uid = lookup_user(value);
      if (!uid) bad("peer '" + peer_text + "': no user named '" + value + "'");
      pattern->kind = PeerPattern::Kind::uid;
      pattern->uid = *uid;
    } else {
      const auto gid = lookup_group(value);
      if (!gid) bad("peer '" + peer_text + "': no group named '" + value + "'");
      pattern->kind = PeerPattern::Kind::gid;
      pattern->gid = *gid;
    }
  } else if (kind == "id") {
    if (out) bad("peer '" + peer_text + "': id: selectors only fit in rules (authenticated remote peers)");
    if (value.empty() || value.size() > 256 || value.find_first_of(" \t\n") != std::string::npos)
      bad("peer '" + peer_text + "': id: takes a name or glob");
    pattern->kind = PeerPattern::Kind::identity;
    pattern->identity_glob = value;
  } else if (colon != std::string::npos) {
    pattern->kind = PeerPattern::Kind::endpoint;
    if (kind != "*") {
      pattern->scheme = ipc::parse_scheme(kind);
      if (!pattern->scheme) bad("peer '" + peer_text + "': unknown scheme '" + kind + "' (unix, tcp, tls, ws, wss or *)");
    }
    // HOST[:PORT], HOST a glob, an address or a CIDR block; IPv6 optionally in brackets.
    std::string host = value;
    std::string port;
    if (!host.empty() && host.front() == '[') {
      const auto close = host.find(']');
      if (close == std::string::npos) bad("peer '" + peer_text + "': missing ']'");
      std::string rest = host.substr(close + 1);
      host = host.substr(1, close - 1);
      if (host.find(':') == std::string::npos || !parse_address(host))
        bad("peer '" + peer_text + "': brackets hold an IPv6 address, not '" + host + "'");
      if (!rest.empty() && rest.front() == '/') {  // [v6]/n[:port]
        const auto port_colon = rest.find(':');
        host += rest.substr(0, port_colon);
        rest = port_colon == std::string::npos ? "" : rest.substr(port_colon);
      }
      if (!rest.empty()) {
        if (rest.front() != ':') bad("peer '" + peer_text + "': unexpected text after ']'");
        port = rest.substr(1);
      }
    } else if (std::count(host.begin(), host.end(), ':') == 1) {
      port = host.substr(host.find(':') + 1);
      host = host.substr(0, host.find(':'));
    } else if (std::count(host.begin(), host.end(), ':') > 1 && !parse_address(host.substr(0, host.find('/')))) {
      bad("peer '" + peer_text + "': '" + host +
          "' is not an IPv6 address (an IPv6 address with a port goes in brackets: [::1]:9000)");
    }
    if (host.empty()) bad("peer '" + peer_text + "': missing host");
    const auto slash = host.find('/');
    if (auto address = parse_address(host.substr(0, slash))) {
      const int max = address->v4 ? 32 : 128;
      int prefix = max;
      if (slash != std::string::npos) {
        const std::string bits = host.substr(slash + 1);
        if (!all_digits(bits) || bits.size() > 3 || std::stoi(bits) > max)
          bad("peer '" + peer_text + "': CIDR prefix must be 0 to " + std::to_string(max));
        prefix = std::stoi(bits);
      }
      pattern->network = address;
      pattern->prefix = prefix;
    } else {
      if (slash != std::string::npos) bad("peer '" + peer_text + "': '" + host + "' is not a CIDR block");
      if (host.size() > 253 || !std::all_of(host.begin(), host.end(), [](char c) {
            return is_glob_char(c) && c != '_';
          }))
        bad("peer '" + peer_text + "': '" + host + "' is not a host name, glob, address or CIDR block");
      for (char& c : host) c = ipc::ascii_lower(c);
      pattern->host_glob = host;
    }
    if (!port.empty() && port != "*") {
      const auto number = ipc::parse_port(port);
      if (!number) bad("peer '" + peer_text + "': the port must be 1 to 65535 or *");
      pattern->port = *number;
    } else if (port.empty() && value.back() == ':') {
      bad("peer '" + peer_text + "': empty port");
    }
  } else {
    bad("invalid peer '" + peer_text + "' (expected *, SCHEME:HOST[:PORT], uid:N, user:NAME, group:NAME or id:NAME)");
  }
  rule.peer_ = std::move(pattern);
  rule.text_ = std::string(action) + " " + std::string(direction) + " " + std::string(service) + " " + peer_text;
  return rule;
}

bool Rule::matches_out(const ipc::ServiceName& service, const ipc::Uri& destination,
                       const ClientCredentials& client, const std::string* address) const {
  if (direction_ != Direction::out || !ipc::glob_match(service_glob_, service.str())) return false;
  const PeerPattern& p = *peer_;
  switch (p.kind) {
    case PeerPattern::Kind::any: return true;
    case PeerPattern::Kind::uid: return client.uid == p.uid;
    case PeerPattern::Kind::gid: return in_group(client, p.gid);
    case PeerPattern::Kind::identity: return false;
    case PeerPattern::Kind::endpoint: break;
  }
  if (p.scheme && *p.scheme != destination.scheme()) return false;
  if (destination.is_local()) return p.port == 0 && p.host_matches("localhost");
  if (p.port != 0 && p.port != destination.port()) return false;
  return p.host_matches(destination.host()) || (address != nullptr && p.host_matches(*address));
}

bool Rule::could_match_address(const ipc::ServiceName& service, const ipc::Uri& destination,
                               const ClientCredentials&) const {
  if (direction_ != Direction::out || !ipc::glob_match(service_glob_, service.str())) return false;
  const PeerPattern& p = *peer_;
  if (!p.reads_addresses() || destination.is_local()) return false;
  if (ipc::canonical_address(destination.host())) return false;  // an address already: matched as it is
  if (p.scheme && *p.scheme != destination.scheme()) return false;
  return p.port == 0 || p.port == destination.port();
}

bool Rule::matches_in(const ipc::ServiceName& service, const RemotePeer& peer) const {
  if (direction_ != Direction::in || !ipc::glob_match(service_glob_, service.str())) return false;
  const PeerPattern& p = *peer_;
  switch (p.kind) {
    case PeerPattern::Kind::any: return true;
    case PeerPattern::Kind::identity: return !peer.identity.empty() && glob(p.identity_glob, peer.identity, false);
    case PeerPattern::Kind::uid:
    case PeerPattern::Kind::gid: return false;
    case PeerPattern::Kind::endpoint: break;
  }
  if (p.scheme && *p.scheme != peer.scheme) return false;
  if (p.port != 0 && p.port != peer.port) return false;
  // An unknown address ("") only matches the host "*": a deny rule for any host covers it too.
  if (p.host_matches(peer.address)) return true;
  // A verified certificate name may stand for the host (never a PSK identity or a user name,
  // which anybody holding a key or a password could choose).
  return !p.network && !peer.certificate.empty() && p.host_matches(peer.certificate);
}

void Policy::add_redirect(std::string_view service, std::string_view target) {
  if (auto why = ipc::ServiceName::why_invalid(service); !why.empty()) bad("redirect: " + why);
  (void)ipc::Uri::parse(target);  // a service name or a URI
  redirects_[std::string(service)] = std::string(target);
}

void Policy::add_route(std::string_view service, std::string_view uri) {
  if (auto why = ipc::ServiceName::why_invalid(service); !why.empty()) bad("route: " + why);
  routes_.insert_or_assign(std::string(service), ipc::Uri::parse(uri));
}

void Policy::set_default(Direction direction, Action action) noexcept {
  (direction == Direction::in ? default_in_ : default_out_) = action;
}

Resolved Policy::resolve(const ipc::ServiceName& service) const {
  Resolved out{service, std::nullopt, {service.str()}};
  std::set<std::string> seen{service.str()};
  for (;;) {
    const auto it = redirects_.find(out.service.str());
    if (it == redirects_.end()) return out;
    auto chain = [&] {
      std::string text;
      for (const auto& hop : out.hops) text += hop + " -> ";
      return text + it->second;
    };
    if (static_cast<int>(out.hops.size()) > max_redirects)
      throw Error(ErrorCode::loop,
                  "redirect loop: " + chain() + " (more than " + std::to_string(max_redirects) + " redirections)");
    ipc::Uri target = ipc::Uri::parse(it->second);
    out.hops.push_back(target.is_local() ? target.service().str() : target.str());
    if (!target.is_local()) {
      out.service = target.service();
      out.uri = std::move(target);
      return out;
    }
    if (!seen.insert(target.service().str()).second) {
      out.hops.pop_back();
      throw Error(ErrorCode::loop, "redirect loop: " + chain());
    }
    out.service = target.service();
  }
}

const ipc::Uri* Policy::route(const ipc::ServiceName& service) const noexcept {
  const auto it = routes_.find(service.str());
  return it == routes_.end() ? nullptr : &it->second;
}

Decision Policy::check_out(const ipc::ServiceName& service, const ipc::Uri& destination,
                           const ClientCredentials& client, const std::string* address) const {
  bool depends = false;  // a rule on addresses came first that could match: see Decision
  const auto first_match = [&](const ipc::ServiceName& name) -> std::optional<Decision> {
    for (std::size_t i = 0; i < rules_.size(); ++i) {
      if (rules_[i].matches_out(name, destination, client, address))
        return Decision{rules_[i].action(), "rule " + std::to_string(i + 1) + ": " + rules_[i].text()};
      if (address == nullptr && rules_[i].could_match_address(name, destination, client)) depends = true;
    }
    return std::nullopt;
  };
  const auto with_dependence = [&](Decision d) {
    d.depends_on_addresses = depends;
    return d;
  };
  auto decision = first_match(service);
  if (!decision) decision = Decision{default_out_, "default out " + std::string(to_string(default_out_))};
  // The service the destination names counts as well as the name asked for: a client's route
  // `x tcp://HOST/secret` must not walk past `deny out secret *`. Its rules can only deny more
  // (the default is for the name asked for).
  if (decision->action == Action::allow && destination.service() != service) {
    if (auto also = first_match(destination.service()); also && also->action == Action::deny) {
      also->because += " (for " + destination.service().str() + ", which " + service.str() + " leads to)";
      return with_dependence(*also);
    }
  }
  return with_dependence(*decision);
}

Decision Policy::check_in(const ipc::ServiceName& service, const RemotePeer& peer) const {
  for (std::size_t i = 0; i < rules_.size(); ++i) {
    if (rules_[i].matches_in(service, peer))
      return {rules_[i].action(), "rule " + std::to_string(i + 1) + ": " + rules_[i].text()};
  }
  return {default_in_, "default in " + std::string(to_string(default_in_))};
}

nlohmann::json Policy::to_json() const {
  nlohmann::json rules = nlohmann::json::array();
  for (const auto& rule : rules_) rules.push_back(rule.text());
  nlohmann::json routes = nlohmann::json::object();
  for (const auto& [service, uri] : routes_) routes[service] = uri.str();
  // A redirect to a URI may carry a password: show it like a route's, as ***.
  nlohmann::json redirects = nlohmann::json::object();
  for (const auto& [service, target] : redirects_) {
    const auto uri = ipc::Uri::parse(target);
    redirects[service] = uri.is_local() ? target : uri.str();
  }
  return {{"policy", {{"in", to_string(default_in_)}, {"out", to_string(default_out_)}}},
          {"rules", rules},
          {"redirects", redirects},
          {"routes", routes}};
}

ConfigError::ConfigError(const std::string& file, const std::string& key, const std::string& reason)
    : std::runtime_error(file + ": " + key + ": " + reason), key_(key) {}

Config parse_config(const nlohmann::json& document, const std::string& file) {
  if (!document.is_object()) throw ConfigError(file, "(document)", "expected a JSON object");
  Config config;
  auto action = [&](const nlohmann::json& value, const std::string& key) {
    if (!value.is_string()) throw ConfigError(file, key, "expected \"allow\" or \"deny\"");
    const auto text = value.get<std::string>();
    if (text == "allow") return Action::allow;
    if (text == "deny") return Action::deny;
    throw ConfigError(file, key, "expected \"allow\" or \"deny\", not \"" + text + "\"");
  };
  for (const auto& [key, value] : document.items()) {
    if (key == "policy") {
      if (!value.is_object()) throw ConfigError(file, key, "expected an object {\"in\": ..., \"out\": ...}");
      for (const auto& [direction, what] : value.items()) {
        if (direction == "in") {
          config.policy.set_default(Direction::in, action(what, "policy.in"));
        } else if (direction == "out") {
          config.policy.set_default(Direction::out, action(what, "policy.out"));
        } else {
          throw ConfigError(file, "policy." + direction, "unknown key (expected in or out)");
        }
      }
    } else if (key == "rules") {
      if (!value.is_array()) throw ConfigError(file, key, "expected an array of rule strings");
      for (std::size_t i = 0; i < value.size(); ++i) {
        const std::string where = "rules[" + std::to_string(i) + "]";
        if (!value[i].is_string()) throw ConfigError(file, where, "expected a string like \"allow in pong tcp:127.0.0.1\"");
        try {
          config.policy.add_rule(Rule::parse(value[i].get<std::string>()));
        } catch (const Error& e) {
          throw ConfigError(file, where, e.text());
        }
      }
    } else if (key == "redirects" || key == "routes") {
      if (!value.is_object()) throw ConfigError(file, key, "expected an object of SERVICE: TARGET strings");
      for (const auto& [service, target] : value.items()) {
        const std::string where = key + "." + service;
        if (!target.is_string()) throw ConfigError(file, where, "expected a string");
        try {
          if (key == "redirects") {
            config.policy.add_redirect(service, target.get<std::string>());
          } else {
            config.policy.add_route(service, target.get<std::string>());
          }
        } catch (const Error& e) {
          throw ConfigError(file, where, e.text());
        }
      }
    } else if (key == "timeout") {
      if (!value.is_number() || !(value.get<double>() > 0) || value.get<double>() > 3600)
        throw ConfigError(file, key, "expected a number of seconds between 0 and 3600");
      config.timeout_seconds = value.get<double>();
    } else {
      throw ConfigError(file, key, "unknown key (expected policy, rules, redirects, routes or timeout)");
    }
  }
  return config;
}

nlohmann::json load_document(const std::string& file) {
  std::string text;
  try {
    text = ipc::read_regular_file(file, ipc::max_config_file_bytes);
  } catch (const std::runtime_error& e) {
    throw ConfigError(file, "(file)", e.what());
  }
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    throw ConfigError(file, "(syntax)", e.what());
  }
}

Config load_config(const std::string& file) { return parse_config(load_document(file), file); }

}  // namespace ipcd
