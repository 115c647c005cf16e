// ipcd's policy: rule parsing and matching, redirections, routes, the config file (DESIGN §9).
#include "policy.hpp"
#include <ipc/text.hpp>

#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
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

namespace ip = boost::asio::ip;

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

// A numeric IP address in the standard spellings (not inet_aton's "127.1" or "0x7f000001"), an
// IPv4-mapped IPv6 address as the IPv4 address it is.
std::optional<ip::address> parse_address(std::string_view text) {
  boost::system::error_code ec;
  const auto address = ip::make_address(std::string(text), ec);
  if (ec) return std::nullopt;
  return ipc::unmapped(address);
}

bool in_block(const ip::address& address, const ip::address& network, unsigned prefix) {
  if (address.is_v4() != network.is_v4()) return false;
  const auto compare = [&](const auto& a, const auto& n) {
    unsigned bits = prefix;
    for (std::size_t i = 0; i < a.size() && bits > 0; ++i, bits = bits >= 8 ? bits - 8 : 0) {
      const auto mask = static_cast<std::uint8_t>(bits >= 8 ? 0xff : 0xff << (8 - bits));
      if ((a[i] & mask) != (n[i] & mask)) return false;
    }
    return true;
  };
  return address.is_v4() ? compare(address.to_v4().to_bytes(), network.to_v4().to_bytes())
                         : compare(address.to_v6().to_bytes(), network.to_v6().to_bytes());
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

template <class... Ts>
struct overloaded : Ts... {
  using Ts::operator()...;
};
template <class... Ts>
overloaded(Ts...) -> overloaded<Ts...>;  // (clang 14, the fuzz build's, deduces no aggregate)

// --- the four words of a rule ---------------------------------------------------------------

Action parse_action(std::string_view word) {
  if (word == "allow") return Action::allow;
  if (word == "deny") return Action::deny;
  bad("unknown action '" + std::string(word) + "' (expected allow or deny)");
}

Direction parse_direction(std::string_view word) {
  if (word == "in") return Direction::in;
  if (word == "out") return Direction::out;
  bad("unknown direction '" + std::string(word) + "' (expected in or out)");
}

std::string parse_service_glob(std::string_view word) {
  if (word.empty() || word.size() > ipc::ServiceName::max_length ||
      !std::all_of(word.begin(), word.end(), is_glob_char) || word == "." || word == "..")
    bad("invalid service pattern '" + std::string(word) + "' (a name or glob of A-Z a-z 0-9 . _ - * ?)");
  return std::string(word);
}

// uid:N, user:NAME, group:NAME: a local client, for out rules.
PeerPattern parse_local_client(const std::string& kind, const std::string& value, const std::string& text) {
  if (kind == "uid") {
    // (uid_t)-1 is "no uid" (ClientCredentials' default), so it is not a uid a rule may name.
    if (!all_digits(value) || value.size() > 10 || std::stoull(value) >= static_cast<uid_t>(-1))
      bad("peer '" + text + "': uid: takes a number from 0 to " + std::to_string(static_cast<uid_t>(-1) - 1));
    return peer::Uid{static_cast<uid_t>(std::stoull(value))};
  }
  if (kind == "user") {
    const auto uid = lookup_user(value);
    if (!uid) bad("peer '" + text + "': no user named '" + value + "'");
    return peer::Uid{*uid};
  }
  const auto gid = lookup_group(value);
  if (!gid) bad("peer '" + text + "': no group named '" + value + "'");
  return peer::Gid{*gid};
}

// id:GLOB: an authenticated remote identity, for in rules.
PeerPattern parse_identity(const std::string& value, const std::string& text) {
  if (value.empty() || value.size() > 256 || value.find_first_of(" \t\n") != std::string::npos)
    bad("peer '" + text + "': id: takes a name or glob");
  return peer::Identity{value};
}

// HOST[:PORT] of SCHEME:HOST[:PORT] in two; an IPv6 address (or block) with a port in brackets:
// "[::1]:9000", "[2001:db8::]/32:443".
std::pair<std::string, std::string> split_endpoint(const std::string& value, const std::string& text) {
  std::string host = value;
  std::string port;
  if (!host.empty() && host.front() == '[') {
    const auto close = host.find(']');
    if (close == std::string::npos) bad("peer '" + text + "': missing ']'");
    std::string rest = host.substr(close + 1);
    host = host.substr(1, close - 1);
    if (host.find(':') == std::string::npos || !parse_address(host))
      bad("peer '" + text + "': brackets hold an IPv6 address, not '" + host + "'");
    if (!rest.empty() && rest.front() == '/') {  // [v6]/n[:port]
      const auto port_colon = rest.find(':');
      host += rest.substr(0, port_colon);
      rest = port_colon == std::string::npos ? "" : rest.substr(port_colon);
    }
    if (!rest.empty()) {
      if (rest.front() != ':') bad("peer '" + text + "': unexpected text after ']'");
      port = rest.substr(1);
    }
  } else if (std::count(host.begin(), host.end(), ':') == 1) {
    port = host.substr(host.find(':') + 1);
    host = host.substr(0, host.find(':'));
  } else if (std::count(host.begin(), host.end(), ':') > 1 && !parse_address(host.substr(0, host.find('/')))) {
    bad("peer '" + text + "': '" + host +
        "' is not an IPv6 address (an IPv6 address with a port goes in brackets: [::1]:9000)");
  }
  if (host.empty()) bad("peer '" + text + "': missing host");
  if (port.empty() && value.back() == ':') bad("peer '" + text + "': empty port");
  return {host, port};
}

// HOST: an address or a CIDR block, else a host name or glob (kept in lower case).
void parse_host(std::string host, peer::Endpoint& endpoint, const std::string& text) {
  const auto slash = host.find('/');
  if (const auto address = parse_address(host.substr(0, slash))) {
    const unsigned max = address->is_v4() ? 32 : 128;
    unsigned prefix = max;
    if (slash != std::string::npos) {
      const std::string bits = host.substr(slash + 1);
      if (!all_digits(bits) || bits.size() > 3 || std::stoul(bits) > max)
        bad("peer '" + text + "': CIDR prefix must be 0 to " + std::to_string(max));
      prefix = static_cast<unsigned>(std::stoul(bits));
    }
    endpoint.network = address;
    endpoint.prefix = prefix;
    return;
  }
  if (slash != std::string::npos) bad("peer '" + text + "': '" + host + "' is not a CIDR block");
  if (host.size() > 253 || !std::all_of(host.begin(), host.end(), [](char c) { return is_glob_char(c) && c != '_'; }))
    bad("peer '" + text + "': '" + host + "' is not a host name, glob, address or CIDR block");
  for (char& c : host) c = ipc::ascii_lower(c);
  endpoint.host_glob = std::move(host);
}

// SCHEME:HOST[:PORT], SCHEME unix|tcp|tls|ws|wss or *.
PeerPattern parse_endpoint(const std::string& kind, const std::string& value, const std::string& text) {
  peer::Endpoint endpoint;
  if (kind != "*") {
    endpoint.scheme = ipc::parse_scheme(kind);
    if (!endpoint.scheme) bad("peer '" + text + "': unknown scheme '" + kind + "' (unix, tcp, tls, ws, wss or *)");
  }
  auto [host, port] = split_endpoint(value, text);
  parse_host(std::move(host), endpoint, text);
  if (!port.empty() && port != "*") {
    const auto number = ipc::parse_port(port);
    if (!number) bad("peer '" + text + "': the port must be 1 to 65535 or *");
    endpoint.port = *number;
  }
  return endpoint;
}

PeerPattern parse_peer(const std::string& text, Direction direction) {
  if (text == "*") return peer::Any{};
  const auto colon = text.find(':');
  if (colon == std::string::npos)
    bad("invalid peer '" + text + "' (expected *, SCHEME:HOST[:PORT], uid:N, user:NAME, group:NAME or id:NAME)");
  const std::string kind = text.substr(0, colon);
  const std::string value = text.substr(colon + 1);
  const bool out = direction == Direction::out;
  if (kind == "uid" || kind == "user" || kind == "group") {
    if (!out) bad("peer '" + text + "': " + kind + ": selectors only fit out rules (local clients)");
    return parse_local_client(kind, value, text);
  }
  if (kind == "id") {
    if (out) bad("peer '" + text + "': id: selectors only fit in rules (authenticated remote peers)");
    return parse_identity(value, text);
  }
  return parse_endpoint(kind, value, text);
}

// A redirect's TARGET or a route's URI for SERVICE (`what` names which in errors).
ipc::Uri parse_target(const char* what, std::string_view service, std::string_view target) {
  if (auto why = ipc::ServiceName::why_invalid(service); !why.empty()) bad(std::string(what) + ": " + why);
  return ipc::Uri::parse(target);
}

}  // namespace

bool peer::Endpoint::host_matches(std::string_view host) const {
  if (network) {
    const auto address = parse_address(host);
    return address && in_block(*address, *network, prefix);
  }
  // One spelling per address: `tcp:127.*` also meets ::ffff:127.0.0.1.
  if (const auto canonical = ipc::canonical_address(host)) return glob(host_glob, *canonical, true);
  return glob(host_glob, host, true);
}

bool peer::Endpoint::reads_addresses() const {
  if (network) return true;
  return std::all_of(host_glob.begin(), host_glob.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || c == '.' || c == ':' || c == '*' || c == '?';
  });
}

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
  rule.action_ = parse_action(action);
  rule.direction_ = parse_direction(direction);
  rule.service_glob_ = parse_service_glob(service);
  rule.peer_ = parse_peer(std::string(peer), rule.direction_);
  rule.text_ = std::string(action) + " " + std::string(direction) + " " + std::string(service) + " " + std::string(peer);
  return rule;
}

bool Rule::matches_out(const ipc::ServiceName& service, const ipc::Uri& destination,
                       const ClientCredentials& client, const std::string* address) const {
  if (direction_ != Direction::out || !ipc::glob_match(service_glob_, service.str())) return false;
  return std::visit(overloaded{
                        [](const peer::Any&) { return true; },
                        [&](const peer::Uid& p) { return client.uid == p.uid; },
                        [&](const peer::Gid& p) { return in_group(client, p.gid); },
                        [](const peer::Identity&) { return false; },
                        [&](const peer::Endpoint& p) {
                          if (p.scheme && *p.scheme != destination.scheme()) return false;
                          if (destination.is_local()) return p.port == 0 && p.host_matches("localhost");
                          if (p.port != 0 && p.port != destination.port()) return false;
                          return p.host_matches(destination.host()) ||
                                 (address != nullptr && p.host_matches(*address));
                        },
                    },
                    peer_);
}

bool Rule::could_match_address(const ipc::ServiceName& service, const ipc::Uri& destination,
                               const ClientCredentials&) const {
  if (direction_ != Direction::out || !ipc::glob_match(service_glob_, service.str())) return false;
  const auto* p = std::get_if<peer::Endpoint>(&peer_);
  if (p == nullptr || !p->reads_addresses() || destination.is_local()) return false;
  if (ipc::canonical_address(destination.host())) return false;  // an address already: matched as it is
  if (p->scheme && *p->scheme != destination.scheme()) return false;
  return p->port == 0 || p->port == destination.port();
}

bool Rule::matches_in(const ipc::ServiceName& service, const RemotePeer& peer) const {
  if (direction_ != Direction::in || !ipc::glob_match(service_glob_, service.str())) return false;
  return std::visit(overloaded{
                        [](const peer::Any&) { return true; },
                        [&](const peer::Identity& p) { return !peer.identity.empty() && glob(p.glob, peer.identity, false); },
                        [](const peer::Uid&) { return false; },
                        [](const peer::Gid&) { return false; },
                        [&](const peer::Endpoint& p) {
                          if (p.scheme && *p.scheme != peer.scheme) return false;
                          if (p.port != 0 && p.port != peer.port) return false;
                          // An unknown address ("") only matches the host "*": a deny rule for any
                          // host covers it too.
                          if (p.host_matches(peer.address)) return true;
                          // A verified certificate name may stand for the host (never a PSK
                          // identity or a user name, which anybody holding a key or a password
                          // could choose).
                          return !p.network && !peer.certificate.empty() && p.host_matches(peer.certificate);
                        },
                    },
                    peer_);
}

void PolicyLayer::add_redirect(std::string_view service, std::string_view target) {
  redirects.insert_or_assign(std::string(service), parse_target("redirect", service, target));
}

void PolicyLayer::add_route(std::string_view service, std::string_view uri) {
  routes.insert_or_assign(std::string(service), parse_target("route", service, uri));
}

Policy Policy::from(const PolicyLayer& first, const PolicyLayer& then) {
  Policy policy;
  for (const auto* layer : {&first, &then})
    policy.rules_.insert(policy.rules_.end(), layer->rules.begin(), layer->rules.end());
  for (const auto* layer : {&then, &first}) {
    for (const auto& [service, target] : layer->redirects) policy.redirects_.insert_or_assign(service, target);
    for (const auto& [service, uri] : layer->routes) policy.routes_.insert_or_assign(service, uri);
    if (layer->default_in) policy.default_in_ = *layer->default_in;
    if (layer->default_out) policy.default_out_ = *layer->default_out;
  }
  return policy;
}

void Policy::add_redirect(std::string_view service, std::string_view target) {
  redirects_.insert_or_assign(std::string(service), parse_target("redirect", service, target));
}

void Policy::add_route(std::string_view service, std::string_view uri) {
  routes_.insert_or_assign(std::string(service), parse_target("route", service, uri));
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
    const ipc::Uri& target = it->second;
    const std::string hop = target.is_local() ? target.service().str() : target.str();
    auto chain = [&] {
      std::string text;
      for (const auto& passed : out.hops) text += passed + " -> ";
      return text + hop;
    };
    if (static_cast<int>(out.hops.size()) > max_redirects)
      throw Error(ErrorCode::loop,
                  "redirect loop: " + chain() + " (more than " + std::to_string(max_redirects) + " redirections)");
    if (!target.is_local()) {
      out.hops.push_back(hop);
      out.service = target.service();
      out.uri = target;
      return out;
    }
    if (!seen.insert(hop).second) throw Error(ErrorCode::loop, "redirect loop: " + chain());
    out.hops.push_back(hop);
    out.service = target.service();
  }
}

const ipc::Uri* Policy::route(const ipc::ServiceName& service) const noexcept {
  const auto it = routes_.find(service.str());
  return it == routes_.end() ? nullptr : &it->second;
}

template <class Matches>
std::optional<Decision> Policy::first_match(const Matches& matches) const {
  for (std::size_t i = 0; i < rules_.size(); ++i)
    if (matches(rules_[i])) return Decision{rules_[i].action(), "rule " + std::to_string(i + 1) + ": " + rules_[i].text()};
  return std::nullopt;
}

Decision Policy::check_out(const ipc::ServiceName& service, const ipc::Uri& destination,
                           const ClientCredentials& client, const std::string* address) const {
  bool depends = false;  // a rule on addresses came first that could match: see Decision
  const auto for_name = [&](const ipc::ServiceName& name) {
    return first_match([&](const Rule& rule) {
      if (rule.matches_out(name, destination, client, address)) return true;
      if (address == nullptr && rule.could_match_address(name, destination, client)) depends = true;
      return false;
    });
  };
  auto decision = for_name(service);
  if (!decision) decision = Decision{default_out_, "default out " + std::string(to_string(default_out_))};
  // The service the destination names counts as well as the name asked for: a client's route
  // `x tcp://HOST/secret` must not walk past `deny out secret *`. Its rules can only deny more
  // (the default is for the name asked for).
  if (decision->action == Action::allow && destination.service() != service) {
    if (auto also = for_name(destination.service()); also && also->action == Action::deny) {
      also->because += " (for " + destination.service().str() + ", which " + service.str() + " leads to)";
      decision = std::move(also);
    }
  }
  decision->depends_on_addresses = depends;
  return *decision;
}

Decision Policy::check_in(const ipc::ServiceName& service, const RemotePeer& peer) const {
  if (auto decision = first_match([&](const Rule& rule) { return rule.matches_in(service, peer); })) return *decision;
  return {default_in_, "default in " + std::string(to_string(default_in_))};
}

nlohmann::json Policy::to_json() const {
  nlohmann::json rules = nlohmann::json::array();
  for (const auto& rule : rules_) rules.push_back(rule.text());
  nlohmann::json routes = nlohmann::json::object();
  for (const auto& [service, uri] : routes_) routes[service] = uri.str();
  // A redirect to a URI may carry a password: shown like a route's, as ***.
  nlohmann::json redirects = nlohmann::json::object();
  for (const auto& [service, target] : redirects_)
    redirects[service] = target.is_local() ? target.service().str() : target.str();
  return {{"policy", {{"in", to_string(default_in_)}, {"out", to_string(default_out_)}}},
          {"rules", rules},
          {"redirects", redirects},
          {"routes", routes}};
}

ConfigError::ConfigError(const std::string& file, const std::string& key, const std::string& reason)
    : std::runtime_error(file + ": " + key + ": " + reason), key_(key) {}

PolicyLayer parse_layer(const nlohmann::json& document, const std::string& file) {
  if (!document.is_object()) throw ConfigError(file, "(document)", "expected a JSON object");
  PolicyLayer layer;
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
          layer.default_in = action(what, "policy.in");
        } else if (direction == "out") {
          layer.default_out = action(what, "policy.out");
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
          layer.rules.push_back(Rule::parse(value[i].get<std::string>()));
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
            layer.add_redirect(service, target.get<std::string>());
          } else {
            layer.add_route(service, target.get<std::string>());
          }
        } catch (const Error& e) {
          throw ConfigError(file, where, e.text());
        }
      }
    } else if (key == "timeout") {
      if (!value.is_number() || !(value.get<double>() > 0) || value.get<double>() > 3600)
        throw ConfigError(file, key, "expected a number of seconds between 0 and 3600");
      layer.timeout_seconds = value.get<double>();
    } else {
      throw ConfigError(file, key, "unknown key (expected policy, rules, redirects, routes or timeout)");
    }
  }
  return layer;
}

Config parse_config(const nlohmann::json& document, const std::string& file) {
  const PolicyLayer layer = parse_layer(document, file);
  return Config{Policy::from(layer), layer.timeout_seconds};
}

nlohmann::json load_document(const std::string& file) {
  std::string text;
  try {
    text = ipc::read_regular_file(file, ipc::max_config_file_bytes);
  } catch (const std::runtime_error& e) {
    throw ConfigError(file, "(file)", e.what());
  }
  try {
    return nlohmann::json::parse(text, nullptr, true, /*ignore_comments=*/true);  // // and /* */
  } catch (const nlohmann::json::exception& e) {
    throw ConfigError(file, "(syntax)", e.what());
  }
}

Config load_config(const std::string& file) { return parse_config(load_document(file), file); }

}  // namespace ipcd
