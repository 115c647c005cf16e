// ipcd's policy (DESIGN §9): firewall rules, redirections and static routes, and the decisions
// taken with them. Pure logic, no I/O: the broker asks, the policy answers.
//
//   rule      ACTION DIRECTION SERVICE PEER     allow|deny, in|out, name or glob, see below
//   redirect  SERVICE TARGET                    TARGET a service name or a URI
//   route     SERVICE URI                       how to reach SERVICE when IPC_NETWORK says nothing
//
// PEER is one of:
//   *                      anything
//   SCHEME:HOST[:PORT]     SCHEME unix|tcp|tls|ws|wss or *; HOST a glob ("*.example.org") or, for an
//                          IP, a CIDR block ("10.0.0.0/8", "[::1]/128" or "::1/128"); PORT a number or *
//                          out: matched against the destination URI (a local destination is
//                               "unix:localhost"); in: against the peer's scheme and address, or,
//                               when the peer proved a certificate name, that name as HOST
//   uid:N  user:NAME  group:NAME    out rules only: the local client (SO_PEERCRED)
//   id:NAME                         in rules only: the authenticated identity (glob)
//
// Rules are checked in order, first match wins; no match means the default of the direction:
// in = deny, out = allow unless changed.
#pragma once

#include <sys/types.h>

#include <boost/asio/ip/address.hpp>
#include <cstdint>
#include <ipc/error.hpp>
#include <ipc/service_name.hpp>
#include <ipc/uri.hpp>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace ipcd {

enum class Action { allow, deny };
enum class Direction { in, out };

[[nodiscard]] std::string_view to_string(Action action) noexcept;
[[nodiscard]] std::string_view to_string(Direction direction) noexcept;

// A local client, as the kernel describes it: SO_PEERCRED, and its supplementary groups
// (SO_PEERGROUPS). Matching a rule never asks a name service (LDAP, sssd) anything.
struct ClientCredentials {
  uid_t uid = static_cast<uid_t>(-1);
  gid_t gid = static_cast<gid_t>(-1);
  pid_t pid = 0;
  std::vector<gid_t> groups;
};

// A remote peer, as a protocol daemon describes it in INBOUND (DESIGN §8).
struct RemotePeer {
  ipc::Scheme scheme = ipc::Scheme::tcp;
  std::string address;   // IP address without port, IPv6 without brackets ("" when unknown)
  std::uint16_t port = 0;
  std::string identity;     // authenticated identity, "" when none
  std::string certificate;  // the name a verified TLS certificate proves, "" when none
};

// What a rule's PEER word says, parsed.
namespace peer {
struct Any {};
// SCHEME:HOST[:PORT]
struct Endpoint {
  std::optional<ipc::Scheme> scheme;                 // nullopt: any scheme
  std::string host_glob;                             // lower case; unused when `network` is set
  std::optional<boost::asio::ip::address> network;   // an address or a CIDR block
  unsigned prefix = 0;                               // of `network`, in bits
  std::uint16_t port = 0;                            // 0: any

  // `host` (a name, an address in any spelling, a certificate name) against HOST.
  [[nodiscard]] bool host_matches(std::string_view host) const;
  // Could HOST meet an address? A block or an address does; a glob only when every character it
  // must match literally is one an address's text has (hex digits, '.', ':'): "127.*" could,
  // "*.example.org" never.
  [[nodiscard]] bool reads_addresses() const;
};
struct Uid {  // uid:N and user:NAME (resolved when parsed)
  uid_t uid = 0;
};
struct Gid {  // group:NAME (resolved when parsed)
  gid_t gid = 0;
};
struct Identity {  // id:GLOB
  std::string glob;
};
}  // namespace peer
using PeerPattern = std::variant<peer::Any, peer::Endpoint, peer::Uid, peer::Gid, peer::Identity>;

class Rule {
 public:
  // Parses the four words. Throws ipc::Error(bad_request) saying which word is wrong and why
  // (e.g. "uid: selectors only fit out rules").
  [[nodiscard]] static Rule parse(std::string_view action, std::string_view direction, std::string_view service,
                                  std::string_view peer);
  // "allow in pong tcp:127.0.0.1" (four words separated by white space).
  [[nodiscard]] static Rule parse(std::string_view text);

  [[nodiscard]] Action action() const noexcept { return action_; }
  [[nodiscard]] Direction direction() const noexcept { return direction_; }
  // The rule as text, normalised ("allow in pong tcp:127.0.0.1").
  [[nodiscard]] const std::string& text() const noexcept { return text_; }
  [[nodiscard]] const PeerPattern& peer() const noexcept { return peer_; }

  // Does this out rule match a client asking for `service` reaching `destination`?
  // user:NAME and group:NAME are resolved to ids when the rule is parsed (an unknown name is a
  // parse error); group:NAME matches the client's primary and supplementary groups, as the
  // kernel reported them when it connected.
  // With `address` (one the destination's host name resolved to), HOST matches the name or that
  // address.
  [[nodiscard]] bool matches_out(const ipc::ServiceName& service, const ipc::Uri& destination,
                                 const ClientCredentials& client, const std::string* address = nullptr) const;
  // Could this out rule match `destination` through an address its host name resolves to, where
  // it does not match the name? (A CIDR block, an address, or a glob that could meet an
  // address's text, such as "127.*"; everything but HOST matching.)
  [[nodiscard]] bool could_match_address(const ipc::ServiceName& service, const ipc::Uri& destination,
                                         const ClientCredentials& client) const;
  // Does this in rule match a remote peer asking for `service`?
  [[nodiscard]] bool matches_in(const ipc::ServiceName& service, const RemotePeer& peer) const;

 private:
  Action action_ = Action::deny;
  Direction direction_ = Direction::in;
  std::string service_glob_;
  std::string text_;
  PeerPattern peer_;
};

// Where a service request ends up after redirections.
struct Resolved {
  ipc::ServiceName service;       // the final local name (or the name asked for on the far side)
  std::optional<ipc::Uri> uri;    // set when a redirect pointed to a URI
  std::vector<std::string> hops;  // the names and URIs passed through, for logs and `ipcctl lookup`
};

struct Decision {
  Action action = Action::allow;
  std::string because;  // "rule 3: deny out * tcp:*.example.org" or "default out allow"
  // An out decision for a host name that a rule on addresses could change: it is taken again
  // for each address the name resolves to, before connecting (DESIGN §6).
  bool depends_on_addresses = false;
};

// The policy as one source states it, the command line or the config file: what it says and no
// more (a default or a timeout it does not state stays unset). Policy::from makes the policy in
// force from one or two of them.
struct PolicyLayer {
  std::vector<Rule> rules;
  std::map<std::string, ipc::Uri> redirects;  // service -> a local service or a URI
  std::map<std::string, ipc::Uri> routes;
  std::optional<Action> default_in;
  std::optional<Action> default_out;
  std::optional<double> timeout_seconds;

  // Throw ipc::Error(bad_request) for an invalid SERVICE, TARGET or URI.
  void add_redirect(std::string_view service, std::string_view target);
  void add_route(std::string_view service, std::string_view uri);
};

class Policy {
 public:
  static constexpr int max_redirects = 8;

  // `first`'s rules, then `then`'s (first match wins); redirects, routes and defaults from
  // `first` where it states them, else from `then`, else the built-in defaults.
  [[nodiscard]] static Policy from(const PolicyLayer& first, const PolicyLayer& then = {});

  void add_rule(Rule rule) { rules_.push_back(std::move(rule)); }
  // Throws ipc::Error(bad_request) for an invalid SERVICE or TARGET.
  void add_redirect(std::string_view service, std::string_view target);
  void add_route(std::string_view service, std::string_view uri);
  void set_default(Direction direction, Action action) noexcept;

  // Follows redirections from `service`, at most 8 hops; more (or a cycle) throws
  // ipc::Error(loop) naming the chain. A redirect to a URI ends the chain.
  [[nodiscard]] Resolved resolve(const ipc::ServiceName& service) const;
  [[nodiscard]] const ipc::Uri* route(const ipc::ServiceName& service) const noexcept;

  // For a destination with a host name, without `address`: the decision on the name, marked
  // depends_on_addresses when a rule on addresses comes before it that could match; with
  // `address`: the decision for reaching that one of the name's addresses.
  [[nodiscard]] Decision check_out(const ipc::ServiceName& service, const ipc::Uri& destination,
                                   const ClientCredentials& client, const std::string* address = nullptr) const;
  [[nodiscard]] Decision check_in(const ipc::ServiceName& service, const RemotePeer& peer) const;

  // {"policy": {"in": "deny", "out": "allow"}, "rules": [...], "redirects": {...}, "routes": {...}}
  // in the config file's shape (passwords in route URIs shown as ***).
  [[nodiscard]] nlohmann::json to_json() const;

  [[nodiscard]] const std::vector<Rule>& rules() const noexcept { return rules_; }

 private:
  // The first rule `matches` takes, as a decision; nullopt when none does.
  template <class Matches>
  [[nodiscard]] std::optional<Decision> first_match(const Matches& matches) const;

  std::vector<Rule> rules_;
  std::map<std::string, ipc::Uri> redirects_;  // service -> a local service or a URI
  std::map<std::string, ipc::Uri> routes_;
  Action default_in_ = Action::deny;
  Action default_out_ = Action::allow;
};

// The JSON config file (DESIGN §9):
//   {"policy": {"in": "deny", "out": "allow"},
//    "rules": ["allow in pong tcp:127.0.0.1", "deny out * tcp:*.example.org"],
//    "redirects": {"authd": "nextversion-authd"},
//    "routes": {"pong": "tcp://pong.example.com:9000/pong"},
//    "timeout": 10}
// Every key is optional. Throws ConfigError naming the file, the key (e.g. "rules[2]",
// "routes.pong", "policy.in") and the reason; unknown keys and wrong types are errors.
class ConfigError : public std::runtime_error {
 public:
  ConfigError(const std::string& file, const std::string& key, const std::string& reason);
  [[nodiscard]] const std::string& key() const noexcept { return key_; }

 private:
  std::string key_;
};

struct Config {
  Policy policy;
  std::optional<double> timeout_seconds;
};

// Parses a document (`file` only names it in errors).
[[nodiscard]] PolicyLayer parse_layer(const nlohmann::json& document, const std::string& file);
// parse_layer, as the policy in force.
[[nodiscard]] Config parse_config(const nlohmann::json& document, const std::string& file);
// Reads a file's JSON document (ipc::read_regular_file: a FIFO or directory is refused at once);
// an unreadable file is a ConfigError with key "(file)", a syntax error one with "(syntax)".
[[nodiscard]] nlohmann::json load_document(const std::string& file);
// load_document, then parse_config.
[[nodiscard]] Config load_config(const std::string& file);

}  // namespace ipcd
