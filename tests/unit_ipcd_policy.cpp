// Unit tests of ipcd's policy: rules, redirections, routes, defaults, and the config file.
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

#include <ipc/glob.hpp>

#include "policy.hpp"

namespace ipcd {
namespace {

ipc::ServiceName name(const char* text) { return ipc::ServiceName(text); }

Policy policy_of(const std::vector<std::string>& rules) {
  Policy policy;
  for (const auto& rule : rules) policy.add_rule(Rule::parse(rule));
  return policy;
}

TEST(Rule, ParsesTheSeedsExamples) {
  // ipcd --allow in authd tls:example.com --deny in '*' '*' --allow out pong tls:pong.example.com:9000
  const auto a = Rule::parse("allow", "in", "authd", "tls:example.com");
  const auto b = Rule::parse("deny", "in", "*", "*");
  const auto c = Rule::parse("allow", "out", "pong", "tls:pong.example.com:9000");
  EXPECT_EQ(a.text(), "allow in authd tls:example.com");
  EXPECT_EQ(b.action(), Action::deny);
  EXPECT_EQ(c.direction(), Direction::out);
  Policy policy;
  policy.add_rule(a);
  policy.add_rule(b);
  policy.add_rule(c);
  RemotePeer cert{ipc::Scheme::tls, "192.0.2.7", 50000, "example.com", "example.com"};
  EXPECT_EQ(policy.check_in(name("authd"), cert).action, Action::allow);
  EXPECT_EQ(policy.check_in(name("pong"), cert).action, Action::deny);
  EXPECT_EQ(policy.check_out(name("pong"), ipc::Uri::parse("tls://pong.example.com:9000/pong"), {}).because,
            "rule 3: allow out pong tls:pong.example.com:9000");
}

TEST(Rule, RefusesMalformedWordsNamingTheProblem) {
  const std::vector<std::pair<std::string, std::string>> cases{
      {"permit in pong *", "unknown action 'permit'"},
      {"allow sideways pong *", "unknown direction 'sideways'"},
      {"allow in ../x *", "invalid service pattern '../x'"},
      {"allow in a/b *", "invalid service pattern 'a/b'"},
      {"allow in pong gopher:host", "unknown scheme 'gopher'"},
      {"allow in pong uid:0", "only fit out rules"},
      {"allow out pong id:alice", "only fit in rules"},
      {"allow out pong uid:abc", "uid: takes a number"},
      {"allow out pong user:no-such-user-here", "no user named"},
      {"allow out pong group:no-such-group-here", "no group named"},
      {"allow in pong tcp:10.0.0.0/33", "CIDR prefix must be 0 to 32"},
      {"allow in pong tcp:[::1]/129", "CIDR prefix must be 0 to 128"},
      {"allow in pong tcp:host:0", "port must be 1 to 65535"},
      {"allow in pong tcp:host:70000", "port must be 1 to 65535"},
      {"allow in pong tcp:[::1", "missing ']'"},
      {"allow in pong tcp:ho$t", "is not a host name"},
      {"allow in pong tcp:", "missing host"},
      {"allow in pong nonsense", "invalid peer 'nonsense'"},
      {"allow in pong", "expected four words"},
      {"allow in pong * extra", "expected four words"},
  };
  for (const auto& [text, says] : cases) {
    try {
      (void)Rule::parse(text);
      ADD_FAILURE() << text << ": parsed";
    } catch (const ipc::Error& e) {
      EXPECT_EQ(e.code(), ipc::ErrorCode::bad_request) << text;
      EXPECT_NE(std::string(e.what()).find(says), std::string::npos) << text << ": " << e.what();
    }
  }
}

TEST(Rule, MatchesOutRulesAgainstTheDestination) {
  struct Case {
    std::string peer;
    std::string destination;
    bool matches;
  };
  const std::vector<Case> cases{
      {"*", "tcp://example.com/pong", true},
      {"tcp:*", "tcp://example.com/pong", true},
      {"tcp:*", "tls://example.com/pong", false},
      {"*:example.com", "ws://example.com/pong", true},
      {"tcp:*.example.org", "tcp://a.example.org/pong", true},
      {"tcp:*.example.org", "tcp://A.EXAMPLE.ORG/pong", true},
      {"tcp:*.example.org", "tcp://example.org/pong", false},
      {"tcp:example.com:9000", "tcp://example.com/pong", true},  // default port 9000
      {"tcp:example.com:9001", "tcp://example.com/pong", false},
      {"tcp:example.com:*", "tcp://example.com:1234/pong", true},
      {"tcp:10.0.0.0/8", "tcp://10.2.3.4/pong", true},
      {"tcp:10.0.0.0/8", "tcp://11.2.3.4/pong", false},
      {"tcp:10.0.0.0/8", "tcp://ten.example/pong", false},
      {"tcp:[fd00::]/8", "tcp://[fd12::1]:9000/pong", true},
      {"tcp:[::1]:9000", "tcp://[::1]:9000/pong", true},
      {"tcp:::1", "tcp://[::1]/pong", true},
      {"unix:localhost", "pong", true},
      {"unix:*", "unix:///pong", true},
      {"unix:localhost:80", "pong", false},
      {"tcp:*", "pong", false},
  };
  for (const auto& c : cases) {
    const auto rule = Rule::parse("deny", "out", "*", c.peer);
    EXPECT_EQ(rule.matches_out(name("pong"), ipc::Uri::parse(c.destination), {}), c.matches)
        << c.peer << " vs " << c.destination;
  }
}

TEST(Rule, MatchesOutRulesAgainstTheClientsCredentials) {
  const ClientCredentials root{0, 0, 1, {}};
  const ClientCredentials other{4242, 4242, 2, {}};
  const auto uid = Rule::parse("deny out pong uid:4242");
  EXPECT_TRUE(uid.matches_out(name("pong"), ipc::Uri::parse("pong"), other));
  EXPECT_FALSE(uid.matches_out(name("pong"), ipc::Uri::parse("pong"), root));
  EXPECT_FALSE(uid.matches_out(name("other"), ipc::Uri::parse("pong"), other));
  const auto user = Rule::parse("deny out p* user:root");
  EXPECT_TRUE(user.matches_out(name("pong"), ipc::Uri::parse("pong"), root));
  EXPECT_FALSE(user.matches_out(name("pong"), ipc::Uri::parse("pong"), other));
  const auto group = Rule::parse("deny out ?ong group:root");
  EXPECT_TRUE(group.matches_out(name("pong"), ipc::Uri::parse("tcp://h/pong"), root));
  EXPECT_FALSE(group.matches_out(name("pong"), ipc::Uri::parse("tcp://h/pong"), other));
  EXPECT_FALSE(group.matches_out(name("ponng"), ipc::Uri::parse("tcp://h/pong"), root));
}

TEST(Rule, MatchesInRulesOnSchemeAddressPortAndIdentity) {
  struct Case {
    std::string peer;
    RemotePeer remote;
    bool matches;
  };
  const std::vector<Case> cases{
      {"tcp:127.0.0.1", {ipc::Scheme::tcp, "127.0.0.1", 5000, "", ""}, true},
      {"tcp:127.0.0.1", {ipc::Scheme::ws, "127.0.0.1", 5000, "", ""}, false},
      {"tcp:127.0.0.0/8", {ipc::Scheme::tcp, "127.9.9.9", 1, "", ""}, true},
      {"tcp:127.0.0.0/8", {ipc::Scheme::tcp, "::ffff:127.0.0.2", 1, "", ""}, true},
      {"tcp:127.0.0.0/8", {ipc::Scheme::tcp, "128.0.0.1", 1, "", ""}, false},
      {"*:[2001:db8::]/32", {ipc::Scheme::wss, "2001:db8::7", 1, "", ""}, true},
      {"*:[2001:db8::]/32", {ipc::Scheme::wss, "2001:db9::7", 1, "", ""}, false},
      {"tcp:127.0.0.1:5000", {ipc::Scheme::tcp, "127.0.0.1", 5001, "", ""}, false},
      {"tls:*.example.com", {ipc::Scheme::tls, "192.0.2.1", 1, "node.example.com", "node.example.com"}, true},
      {"tls:*.example.com", {ipc::Scheme::tls, "192.0.2.1", 1, "", ""}, false},
      {"id:alice", {ipc::Scheme::tls, "192.0.2.1", 1, "alice", ""}, true},
      {"id:al*", {ipc::Scheme::tls, "192.0.2.1", 1, "alfred", ""}, true},
      {"id:alice", {ipc::Scheme::tls, "192.0.2.1", 1, "bob", ""}, false},
      {"id:*", {ipc::Scheme::tcp, "192.0.2.1", 1, "", ""}, false},
  };
  for (const auto& c : cases) {
    const auto rule = Rule::parse("allow", "in", "pong", c.peer);
    EXPECT_EQ(rule.matches_in(name("pong"), c.remote), c.matches) << c.peer << " vs " << c.remote.address;
  }
}

TEST(Policy, FirstMatchWinsAndDefaultsApplyWithoutMatch) {
  auto policy = policy_of({"deny out pong tcp:*.example.org", "allow out * *", "allow in pong tcp:127.0.0.1"});
  EXPECT_EQ(policy.check_out(name("pong"), ipc::Uri::parse("tcp://a.example.org/pong"), {}).action, Action::deny);
  EXPECT_EQ(policy.check_out(name("pong"), ipc::Uri::parse("tcp://a.example.com/pong"), {}).because,
            "rule 2: allow out * *");
  const RemotePeer stranger{ipc::Scheme::tcp, "192.0.2.9", 1, "", ""};
  EXPECT_EQ(policy.check_in(name("pong"), stranger).action, Action::deny);
  EXPECT_EQ(policy.check_in(name("pong"), stranger).because, "default in deny");
  Policy empty;
  EXPECT_EQ(empty.check_out(name("x"), ipc::Uri::parse("x"), {}).because, "default out allow");
  empty.set_default(Direction::in, Action::allow);
  empty.set_default(Direction::out, Action::deny);
  EXPECT_EQ(empty.check_in(name("x"), stranger).action, Action::allow);
  EXPECT_EQ(empty.check_out(name("x"), ipc::Uri::parse("x"), {}).action, Action::deny);
}

TEST(Policy, OutRulesOnTheDestinationsServiceCanOnlyDenyMore) {
  auto policy = policy_of({"allow out x *", "deny out secret *", "allow out pong tcp:*.example.com"});
  policy.set_default(Direction::out, Action::deny);
  // The name asked for is allowed, the service it leads to denied: denied, and why.
  const auto denied = policy.check_out(name("x"), ipc::Uri::parse("tcp://h.example.com/secret"), {});
  EXPECT_EQ(denied.action, Action::deny);
  EXPECT_EQ(denied.because, "rule 2: deny out secret * (for secret, which x leads to)");
  EXPECT_EQ(policy.check_out(name("x"), ipc::Uri::parse("secret"), {}).action, Action::deny);
  // No rule for the destination's service: the decision for the name asked for stands.
  EXPECT_EQ(policy.check_out(name("x"), ipc::Uri::parse("tcp://h.example.com/other"), {}).because, "rule 1: allow out x *");
  // An allow for the destination's service does not open what the name asked for is denied.
  EXPECT_EQ(policy.check_out(name("y"), ipc::Uri::parse("tcp://h.example.com/pong"), {}).because, "default out deny");
  EXPECT_EQ(policy.check_out(name("pong"), ipc::Uri::parse("tcp://h.example.com/pong"), {}).action, Action::allow);
}

TEST(Policy, FollowsRedirectChainsUpToEightHops) {
  Policy policy;
  for (int i = 0; i < 8; ++i) policy.add_redirect("s" + std::to_string(i), "s" + std::to_string(i + 1));
  const auto resolved = policy.resolve(name("s0"));
  EXPECT_EQ(resolved.service.str(), "s8");
  EXPECT_FALSE(resolved.uri);
  EXPECT_EQ(resolved.hops.size(), 9u);
  policy.add_redirect("s8", "s9");
  try {
    (void)policy.resolve(name("s0"));
    FAIL() << "nine hops resolved";
  } catch (const ipc::Error& e) {
    EXPECT_EQ(e.code(), ipc::ErrorCode::loop);
  }
}

TEST(Policy, RefusesARedirectLoopNamingTheChain) {
  Policy policy;
  policy.add_redirect("a", "b");
  policy.add_redirect("b", "a");
  try {
    (void)policy.resolve(name("a"));
    FAIL() << "a loop resolved";
  } catch (const ipc::Error& e) {
    EXPECT_EQ(e.code(), ipc::ErrorCode::loop);
    EXPECT_NE(std::string(e.what()).find("a -> b -> a"), std::string::npos) << e.what();
  }
}

TEST(Policy, StopsAtARedirectToAUri) {
  Policy policy;
  policy.add_redirect("authd", "nextversion-authd");
  policy.add_redirect("nextversion-authd", "tls://auth.example.com/authd2");
  const auto resolved = policy.resolve(name("authd"));
  ASSERT_TRUE(resolved.uri);
  EXPECT_EQ(resolved.uri->host(), "auth.example.com");
  EXPECT_EQ(resolved.service.str(), "authd2");
  EXPECT_EQ(resolved.hops, (std::vector<std::string>{"authd", "nextversion-authd", "tls://auth.example.com:9443/authd2"}));
  EXPECT_THROW(policy.add_redirect("../x", "y"), ipc::Error);
  EXPECT_THROW(policy.add_redirect("x", "ftp://host/y"), ipc::Error);
}

TEST(Policy, KeepsStaticRoutes) {
  Policy policy;
  policy.add_route("pong", "tcp://pong.example.com:9000/pong");
  ASSERT_NE(policy.route(name("pong")), nullptr);
  EXPECT_EQ(policy.route(name("pong"))->port(), 9000);
  EXPECT_EQ(policy.route(name("other")), nullptr);
  EXPECT_THROW(policy.add_route("pong", "tcp://:9000/pong"), ipc::Error);
  policy.add_route("secret", "tls://user:pw@example.com/secret");
  const auto json = policy.to_json();
  EXPECT_EQ(json["routes"]["secret"], "tls://user:***@example.com:9443/secret");
  EXPECT_EQ(json["policy"]["in"], "deny");
}

TEST(Glob, MatchesStarsAndQuestionMarksWithoutBlowingUp) {
  using ipc::glob_match;
  EXPECT_TRUE(glob_match("*", ""));
  EXPECT_TRUE(glob_match("p*g", "pong"));
  EXPECT_TRUE(glob_match("p?ng", "pong"));
  EXPECT_FALSE(glob_match("p?ng", "pooong"));
  EXPECT_FALSE(glob_match("pong", "Pong"));
  EXPECT_TRUE(glob_match("pong", "Pong", ipc::Case::insensitive));
  EXPECT_TRUE(glob_match("a*", "a*b"));
  EXPECT_FALSE(glob_match("a*c", "a*b"));
  EXPECT_TRUE(glob_match("*a*a*a*a*a*a*a*b", std::string(40, 'a') + "b"));
  EXPECT_FALSE(glob_match("*a*a*a*a*a*a*a*a*b", std::string(5000, 'a')));  // linear, not exponential
}

TEST(Config, ParsesTheDesignExample) {
  const auto config = parse_config(nlohmann::json::parse(R"({
    "policy": {"in": "deny", "out": "allow"},
    "rules": ["allow in pong tcp:127.0.0.1", "deny out * tcp:*.example.org"],
    "redirects": {"authd": "nextversion-authd"},
    "routes": {"pong": "tcp://pong.example.com:9000/pong"},
    "timeout": 2.5})"),
                                   "ipcd.json");
  EXPECT_EQ(config.policy.rules().size(), 2u);
  EXPECT_EQ(config.policy.resolve(name("authd")).service.str(), "nextversion-authd");
  EXPECT_EQ(config.policy.route(name("pong"))->host(), "pong.example.com");
  EXPECT_EQ(config.timeout_seconds, 2.5);
}

TEST(Config, NamesTheFileTheKeyAndTheReasonForEveryError) {
  const std::vector<std::pair<std::string, std::string>> cases{
      {R"([])", "ipcd.json: (document): expected a JSON object"},
      {R"({"colour": 1})", "ipcd.json: colour: unknown key"},
      {R"({"policy": "deny"})", "ipcd.json: policy: expected an object"},
      {R"({"policy": {"in": "maybe"}})", "ipcd.json: policy.in: expected \"allow\" or \"deny\""},
      {R"({"policy": {"out": 1}})", "ipcd.json: policy.out: expected"},
      {R"({"policy": {"sideways": "allow"}})", "ipcd.json: policy.sideways: unknown key"},
      {R"({"rules": "allow in * *"})", "ipcd.json: rules: expected an array"},
      {R"({"rules": ["allow in pong *", 7]})", "ipcd.json: rules[1]: expected a string"},
      {R"({"rules": ["permit in pong *"]})", "ipcd.json: rules[0]: unknown action 'permit'"},
      {R"({"redirects": []})", "ipcd.json: redirects: expected an object"},
      {R"({"redirects": {"a": 1}})", "ipcd.json: redirects.a: expected a string"},
      {R"({"redirects": {"../a": "b"}})", "ipcd.json: redirects.../a: redirect: invalid service name"},
      {R"({"redirects": {"a": "ftp://x/y"}})", "ipcd.json: redirects.a: invalid URI"},
      {R"({"routes": {"pong": "tcp://host:99999/pong"}})", "ipcd.json: routes.pong: invalid URI"},
      {R"({"timeout": "10"})", "ipcd.json: timeout: expected a number"},
      {R"({"timeout": -1})", "ipcd.json: timeout: expected a number"},
  };
  for (const auto& [text, says] : cases) {
    try {
      (void)parse_config(nlohmann::json::parse(text), "ipcd.json");
      ADD_FAILURE() << text << ": parsed";
    } catch (const ConfigError& e) {
      EXPECT_EQ(std::string(e.what()).rfind(says, 0), 0u) << text << " -> " << e.what();
    }
  }
}

TEST(Config, ReportsUnreadableFilesAndSyntaxErrors) {
  try {
    (void)load_config("/nonexistent/ipcd.json");
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.key(), "(file)");
  }
  char path[] = "/tmp/ipcd-config-XXXXXX";
  const int fd = ::mkstemp(path);
  ASSERT_GE(fd, 0);
  ::close(fd);
  std::ofstream(path) << "{\"rules\": [";
  try {
    (void)load_config(path);
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.key(), "(syntax)");
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos);
  }
  ::unlink(path);
}

}  // namespace
}  // namespace ipcd
