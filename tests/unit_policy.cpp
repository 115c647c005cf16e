// Unit tests of ipcd's policy (DESIGN §9): parsing rules in every form, matching out rules against
// destinations and local clients, in rules against remote peers, first match and defaults,
// redirection chains and loops, routes, the command line's layer over the config file's, the
// policy's JSON shape, and the glob matcher the rules use.
#include <gtest/gtest.h>

#include <ipc/glob.hpp>
#include <string>
#include <vector>

#include "policy.hpp"

namespace ipcd {
namespace {

ipc::ServiceName name(const std::string& text) { return ipc::ServiceName(text); }
ipc::Uri uri(const std::string& text) { return ipc::Uri::parse(text); }

Policy policy_of(const std::vector<std::string>& rules) {
  Policy policy;
  for (const auto& rule : rules) policy.add_rule(Rule::parse(rule));
  return policy;
}

// The ipc::Error a callable throws, or a failure when it throws nothing.
template <typename F>
ipc::Error error_of(F&& f, const std::string& what) {
  try {
    f();
  } catch (const ipc::Error& e) {
    return e;
  }
  ADD_FAILURE() << what << ": no error";
  return ipc::Error(ipc::ErrorCode::internal, "no error");
}

const ClientCredentials nobody_in_particular{4242, 4242, 100, {}};
const ClientCredentials root_client{0, 0, 1, {}};

// --- parsing -------------------------------------------------------------------------------

TEST(ARule, ParsesTheSeedsExamples) {
  // ipcd --allow in authd tls:example.com --deny in '*' '*' --allow out pong tls:pong.example.com:9000
  //      --redirect authd nextversion-authd
  const auto a = Rule::parse("allow", "in", "authd", "tls:example.com");
  const auto b = Rule::parse("deny", "in", "*", "*");
  const auto c = Rule::parse("allow", "out", "pong", "tls:pong.example.com:9000");
  EXPECT_EQ(a.action(), Action::allow);
  EXPECT_EQ(a.direction(), Direction::in);
  EXPECT_EQ(a.text(), "allow in authd tls:example.com");
  EXPECT_EQ(b.action(), Action::deny);
  EXPECT_EQ(b.direction(), Direction::in);
  EXPECT_EQ(b.text(), "deny in * *");
  EXPECT_EQ(c.action(), Action::allow);
  EXPECT_EQ(c.direction(), Direction::out);
  EXPECT_EQ(c.text(), "allow out pong tls:pong.example.com:9000");

  Policy policy;
  policy.add_rule(a);
  policy.add_rule(b);
  policy.add_rule(c);
  policy.add_redirect("authd", "nextversion-authd");

  const RemotePeer example{ipc::Scheme::tls, "192.0.2.7", 50000, "example.com", "example.com"};
  const RemotePeer stranger{ipc::Scheme::tls, "192.0.2.8", 50000, "stranger.example.net", "stranger.example.net"};
  EXPECT_EQ(policy.check_in(name("authd"), example).because, "rule 1: allow in authd tls:example.com");
  EXPECT_EQ(policy.check_in(name("authd"), stranger).because, "rule 2: deny in * *");
  EXPECT_EQ(policy.check_in(name("pong"), example).action, Action::deny);
  EXPECT_EQ(policy.check_out(name("pong"), uri("tls://pong.example.com:9000/pong"), nobody_in_particular).because,
            "rule 3: allow out pong tls:pong.example.com:9000");
  EXPECT_EQ(policy.resolve(name("authd")).service.str(), "nextversion-authd");
}

TEST(ARule, AcceptsEveryServiceAndPeerForm) {
  struct Case {
    std::string direction, service, peer;
  };
  const std::vector<Case> cases{
      {"in", "pong", "*"},
      {"in", "*", "*"},
      {"in", "p?ng", "*"},
      {"in", "Audio.v2_beta-1", "*"},
      {"in", "*-authd*", "*"},
      {"in", std::string(64, 'x'), "*"},
      {"in", "pong", "tcp:example.com"},
      {"in", "pong", "tls:example.com"},
      {"in", "pong", "ws:example.com"},
      {"in", "pong", "wss:example.com"},
      {"out", "pong", "unix:localhost"},
      {"in", "pong", "*:example.com"},
      {"in", "pong", "*:*"},
      {"in", "pong", "tcp:*.example.org"},
      {"in", "pong", "tcp:node-?.example.org"},
      {"in", "pong", "tcp:example.com:9000"},
      {"in", "pong", "tcp:example.com:1"},
      {"in", "pong", "tcp:example.com:65535"},
      {"in", "pong", "tcp:example.com:*"},
      {"in", "pong", "tcp:127.0.0.1"},
      {"in", "pong", "tcp:127.0.0.1:9000"},
      {"in", "pong", "tcp:10.0.0.0/8"},
      {"in", "pong", "tcp:10.0.0.0/8:9000"},
      {"in", "pong", "tcp:0.0.0.0/0"},
      {"in", "pong", "tcp:192.0.2.7/32"},
      {"in", "pong", "tcp:::1"},
      {"in", "pong", "tcp:::1/128"},
      {"in", "pong", "tcp:[::1]"},
      {"in", "pong", "tcp:[::1]:9000"},
      {"in", "pong", "tcp:[::1]:*"},
      {"in", "pong", "tcp:[fd00::]/8"},
      {"in", "pong", "tcp:[fd00::]/8:9000"},
      {"in", "pong", "tcp:[::]/0"},
      {"out", "pong", "uid:0"},
      {"out", "pong", "uid:4294967294"},
      {"out", "pong", "user:root"},
      {"out", "pong", "group:root"},
      {"in", "pong", "id:alice"},
      {"in", "pong", "id:*.example.com"},
  };
  for (const auto& c : cases) {
    const std::string text = "allow " + c.direction + " " + c.service + " " + c.peer;
    try {
      const auto rule = Rule::parse("allow", c.direction, c.service, c.peer);
      EXPECT_EQ(rule.text(), text);
      EXPECT_EQ(Rule::parse(text).text(), text);
    } catch (const std::exception& e) {
      ADD_FAILURE() << text << ": " << e.what();
    }
  }
}

TEST(ARule, NormalisesTheWhiteSpaceOfItsText) {
  EXPECT_EQ(Rule::parse("  allow\tin   pong \t tcp:127.0.0.1 \n").text(), "allow in pong tcp:127.0.0.1");
  EXPECT_EQ(Rule::parse("deny out * tcp:*.example.org").text(), "deny out * tcp:*.example.org");
}

TEST(ARule, RefusesEveryMalformedWordNamingItAndWhy) {
  struct Case {
    std::vector<std::string> words;  // one element: the one-string form; four: the four-word form
    std::vector<std::string> says;   // each must appear in the message
  };
  const std::vector<Case> cases{
      // the shape
      {{"allow in pong"}, {"allow in pong", "expected four words", "got 3"}},
      {{"allow in pong * extra"}, {"expected four words", "got 5"}},
      {{""}, {"expected four words", "got 0"}},
      // ACTION, DIRECTION
      {{"permit in pong *"}, {"unknown action 'permit'", "allow or deny"}},
      {{"Allow in pong *"}, {"unknown action 'Allow'"}},
      {{"allow sideways pong *"}, {"unknown direction 'sideways'", "in or out"}},
      // SERVICE
      {{"allow", "in", "", "*"}, {"invalid service pattern ''"}},
      {{"allow in ../x *"}, {"invalid service pattern '../x'"}},
      {{"allow in a/b *"}, {"invalid service pattern 'a/b'"}},
      {{"allow in .. *"}, {"invalid service pattern '..'"}},
      {{"allow in . *"}, {"invalid service pattern '.'"}},
      {{"allow in pong! *"}, {"invalid service pattern 'pong!'"}},
      {{"allow in " + std::string(65, 'x') + " *"}, {"invalid service pattern"}},
      // PEER: the kinds
      {{"allow", "in", "pong", ""}, {"invalid peer ''"}},
      {{"allow in pong nonsense"}, {"invalid peer 'nonsense'", "SCHEME:HOST"}},
      {{"allow in pong gopher:host"}, {"peer 'gopher:host'", "unknown scheme 'gopher'"}},
      {{"allow in pong TCP:host"}, {"unknown scheme 'TCP'"}},
      // PEER: selectors in the wrong direction
      {{"allow in pong uid:0"}, {"peer 'uid:0'", "uid: selectors only fit out rules"}},
      {{"allow in pong user:root"}, {"peer 'user:root'", "user: selectors only fit out rules"}},
      {{"allow in pong group:root"}, {"peer 'group:root'", "group: selectors only fit out rules"}},
      {{"allow out pong id:alice"}, {"peer 'id:alice'", "id: selectors only fit in rules"}},
      // PEER: selector values
      {{"allow out pong uid:"}, {"peer 'uid:'", "uid: takes a number"}},
      {{"allow out pong uid:abc"}, {"peer 'uid:abc'", "uid: takes a number"}},
      {{"allow out pong uid:-1"}, {"uid: takes a number"}},
      {{"allow out pong uid:4294967295"}, {"uid: takes a number"}},
      {{"allow out pong uid:99999999999"}, {"uid: takes a number"}},
      {{"allow out pong user:no-such-user-here"}, {"peer 'user:no-such-user-here'", "no user named"}},
      {{"allow out pong user:"}, {"no user named ''"}},
      {{"allow out pong group:no-such-group-here"}, {"peer 'group:no-such-group-here'", "no group named"}},
      {{"allow in pong id:"}, {"peer 'id:'", "id: takes a name or glob"}},
      // PEER: hosts
      {{"allow in pong tcp:"}, {"peer 'tcp:'", "missing host"}},
      {{"allow in pong tcp::9000"}, {"missing host"}},
      {{"allow in pong tcp:ho$t"}, {"'ho$t' is not a host name"}},
      {{"allow in pong tcp:under_score.example"}, {"is not a host name"}},
      {{"allow in pong tcp:fd00::zz"}, {"peer 'tcp:fd00::zz'", "IPv6"}},
      {{"allow in pong tcp:[::1"}, {"missing ']'"}},
      {{"allow in pong tcp:[::1]x"}, {"unexpected text after ']'"}},
      {{"allow in pong tcp:[example.com]"}, {"brackets hold an IPv6 address"}},
      {{"allow in pong tcp:[127.0.0.1]"}, {"brackets hold an IPv6 address"}},
      // PEER: CIDR blocks
      {{"allow in pong tcp:10.0.0.0/33"}, {"peer 'tcp:10.0.0.0/33'", "CIDR prefix must be 0 to 32"}},
      {{"allow in pong tcp:10.0.0.0/"}, {"CIDR prefix must be 0 to 32"}},
      {{"allow in pong tcp:10.0.0.0/-1"}, {"CIDR prefix must be 0 to 32"}},
      {{"allow in pong tcp:10.0.0.0/x"}, {"CIDR prefix must be 0 to 32"}},
      {{"allow in pong tcp:[::1]/129"}, {"CIDR prefix must be 0 to 128"}},
      {{"allow in pong tcp:fd00::/1000"}, {"CIDR prefix must be 0 to 128"}},
      {{"allow in pong tcp:example.com/8"}, {"'example.com/8' is not a CIDR block"}},
      // PEER: ports
      {{"allow in pong tcp:host:0"}, {"peer 'tcp:host:0'", "port must be 1 to 65535 or *"}},
      {{"allow in pong tcp:host:65536"}, {"port must be 1 to 65535"}},
      {{"allow in pong tcp:host:123456"}, {"port must be 1 to 65535"}},
      {{"allow in pong tcp:host:http"}, {"port must be 1 to 65535"}},
      {{"allow in pong tcp:host:"}, {"empty port"}},
      {{"allow in pong tcp:[::1]:"}, {"empty port"}},
      {{"allow in pong tcp:[::1]:0"}, {"port must be 1 to 65535"}},
  };
  for (const auto& c : cases) {
    const std::string text =
        c.words.size() == 1 ? c.words[0] : c.words[0] + " " + c.words[1] + " " + c.words[2] + " " + c.words[3];
    const auto error = error_of(
        [&] {
          if (c.words.size() == 1) {
            (void)Rule::parse(c.words[0]);
          } else {
            (void)Rule::parse(c.words[0], c.words[1], c.words[2], c.words[3]);
          }
        },
        text);
    EXPECT_EQ(error.code(), ipc::ErrorCode::bad_request) << text;
    for (const auto& part : c.says)
      EXPECT_NE(error.text().find(part), std::string::npos)
          << text << " -> " << error.text() << " (wanted " << part << ")";
  }
}

// --- out rules -----------------------------------------------------------------------------

TEST(AnOutRule, MatchesTheDestinationsSchemeHostAndPort) {
  struct Case {
    std::string peer, destination;
    bool matches;
  };
  const std::vector<Case> cases{
      {"*", "tcp://example.com/pong", true},
      {"*", "pong", true},
      {"*:*", "wss://example.com/pong", true},
      {"tcp:*", "tcp://example.com/pong", true},
      {"tcp:*", "tls://example.com/pong", false},
      {"tls:*", "tls://example.com/pong", true},
      {"ws:*", "ws://example.com/pong", true},
      {"ws:*", "wss://example.com/pong", false},
      {"wss:*", "wss://example.com/pong", true},
      {"*:example.com", "ws://example.com/pong", true},
      {"*:example.com", "ws://example.net/pong", false},
      // host globs, case-insensitive either way
      {"tcp:*.example.org", "tcp://a.example.org/pong", true},
      {"tcp:*.example.org", "tcp://a.b.example.org/pong", true},
      {"tcp:*.example.org", "tcp://A.EXAMPLE.ORG/pong", true},
      {"tcp:*.EXAMPLE.org", "tcp://a.example.org/pong", true},
      {"tcp:*.example.org", "tcp://example.org/pong", false},
      {"tcp:*.example.org", "tcp://a.example.org.evil.net/pong", false},
      {"tcp:node-?.example.org", "tcp://node-7.example.org/pong", true},
      {"tcp:node-?.example.org", "tcp://node-17.example.org/pong", false},
      // ports: the URI's default port counts
      {"tcp:example.com:9000", "tcp://example.com/pong", true},
      {"tcp:example.com:9000", "tcp://example.com:9000/pong", true},
      {"tcp:example.com:9001", "tcp://example.com/pong", false},
      {"tls:example.com:9443", "tls://example.com/pong", true},
      {"wss:example.com:443", "wss://example.com/pong", true},
      {"tcp:example.com:*", "tcp://example.com:1234/pong", true},
      {"tcp:*:1234", "tcp://anything.example/pong", false},
      {"tcp:*:1234", "tcp://anything.example:1234/pong", true},
      // addresses and CIDR blocks match IP literals only
      {"tcp:192.0.2.7", "tcp://192.0.2.7/pong", true},
      {"tcp:192.0.2.7", "tcp://192.0.2.8/pong", false},
      {"tcp:10.0.0.0/8", "tcp://10.2.3.4/pong", true},
      {"tcp:10.0.0.0/8", "tcp://11.2.3.4/pong", false},
      {"tcp:10.0.0.0/8", "tcp://ten.example/pong", false},
      {"tcp:10.0.0.0/8", "tcp://[::ffff:10.1.1.1]/pong", true},
      {"tcp:10.0.0.0/8", "tcp://[fd00::1]/pong", false},
      {"tcp:0.0.0.0/0", "tcp://203.0.113.9/pong", true},
      {"tcp:0.0.0.0/0", "tcp://example.com/pong", false},
      {"tcp:[fd00::]/8", "tcp://[fd12::1]:9000/pong", true},
      {"tcp:[fd00::]/8", "tcp://[fe80::1]/pong", false},
      {"tcp:[fd00::]/8", "tcp://10.0.0.1/pong", false},
      {"tcp:[fd00::]/8:9000", "tcp://[fd12::1]/pong", true},
      {"tcp:[fd00::]/8:9001", "tcp://[fd12::1]/pong", false},
      {"tcp:[::1]:9000", "tcp://[::1]:9000/pong", true},
      {"tcp:[::1]:9000", "tcp://[::1]:9001/pong", false},
      {"tcp:::1", "tcp://[::1]/pong", true},
      {"tcp:::1/128", "tcp://[::2]/pong", false},
      {"tcp:[::]/0", "tcp://[2001:db8::1]/pong", true},
      // a local destination is unix:localhost, and no other scheme's
      {"unix:localhost", "pong", true},
      {"unix:*", "unix:///pong", true},
      {"unix:localhost:80", "pong", false},
      {"tcp:*", "pong", false},
  };
  for (const auto& c : cases) {
    const auto rule = Rule::parse("deny", "out", "*", c.peer);
    EXPECT_EQ(rule.matches_out(name("pong"), uri(c.destination), nobody_in_particular), c.matches)
        << c.peer << " vs " << c.destination;
  }
}

TEST(AnOutRule, SeesALocalDestinationAsUnixLocalhostWithoutAPort) {
  struct Case {
    std::string peer;
    bool matches;
  };
  const std::vector<Case> cases{
      {"unix:localhost", true},
      {"unix:*", true},
      {"*:localhost", true},
      {"unix:LocalHost", true},
      {"*:*", true},
      {"unix:local*", true},
      {"unix:localhost:80", false},
      {"unix:*:9000", false},
      {"tcp:localhost", false},
      {"tcp:*", false},
      {"unix:example.com", false},
      {"unix:127.0.0.1", false},
      {"unix:127.0.0.0/8", false},
  };
  for (const auto& destination : {"pong", "unix:pong", "unix:///pong"}) {
    for (const auto& c : cases) {
      const auto rule = Rule::parse("deny", "out", "pong", c.peer);
      EXPECT_EQ(rule.matches_out(name("pong"), uri(destination), nobody_in_particular), c.matches)
          << c.peer << " vs " << destination;
    }
  }
}

TEST(AnOutRule, MatchesTheServiceNameAsAGlob) {
  struct Case {
    std::string pattern, service;
    bool matches;
  };
  const std::vector<Case> cases{
      {"pong", "pong", true},      {"pong", "ping", false},  {"pong", "Pong", false},
      {"*", "anything", true},     {"p*", "pong", true},     {"p*", "audio", false},
      {"?ong", "pong", true},      {"?ong", "ppong", false}, {"*-authd", "next-authd", true},
      {"*-authd", "authd", false}, {"a.b*", "a.b", true},    {"a.b*", "aXb", false},
  };
  for (const auto& c : cases) {
    const auto rule = Rule::parse("deny", "out", c.pattern, "*");
    EXPECT_EQ(rule.matches_out(name(c.service), uri("tcp://h/x"), nobody_in_particular), c.matches)
        << c.pattern << " vs " << c.service;
    const auto in = Rule::parse("deny", "in", c.pattern, "*");
    EXPECT_EQ(in.matches_in(name(c.service), RemotePeer{}), c.matches) << c.pattern << " vs " << c.service;
  }
}

TEST(AnOutRule, MatchesTheLocalClientByUidUserOrGroup) {
  struct Case {
    std::string peer;
    ClientCredentials client;
    bool matches;
  };
  const std::vector<Case> cases{
      {"uid:4242", {4242, 4242, 2, {}}, true},
      {"uid:4242", {4243, 4242, 2, {}}, false},
      {"uid:0", {0, 0, 1, {}}, true},
      {"uid:0", {}, false},  // unknown credentials match no uid
      {"user:root", {0, 0, 1, {}}, true},
      {"user:root", {0, 4242, 1, {}}, true},
      {"user:root", {4242, 0, 1, {}}, false},
      {"group:root", {0, 0, 1, {}}, true},
      {"group:root", {4242, 0, 1, {}}, true},      // primary gid
      {"group:root", {4242, 4242, 1, {7, 0}}, true},  // a supplementary group (SO_PEERGROUPS)
      {"group:root", {0, 4242, 1, {}}, false},  // groups come from the kernel, never from /etc/group
      {"group:root", {4242, 4242, 1, {7}}, false},
      {"group:root", {}, false},
  };
  for (const auto& c : cases) {
    for (const auto& destination : {"pong", "tcp://example.com/pong"}) {
      const auto rule = Rule::parse("deny", "out", "pong", c.peer);
      EXPECT_EQ(rule.matches_out(name("pong"), uri(destination), c.client), c.matches)
          << c.peer << " vs uid " << c.client.uid << " gid " << c.client.gid << " to " << destination;
      EXPECT_FALSE(rule.matches_out(name("other"), uri(destination), c.client)) << c.peer;
    }
  }
}

TEST(AnOutRule, NeverMatchesARemotePeerAndAnInRuleNeverMatchesALocalClient) {
  const auto out = Rule::parse("deny out * *");
  const auto in = Rule::parse("deny in * *");
  EXPECT_FALSE(out.matches_in(name("pong"), RemotePeer{ipc::Scheme::tcp, "127.0.0.1", 1, "", ""}));
  EXPECT_FALSE(in.matches_out(name("pong"), uri("pong"), root_client));
  EXPECT_TRUE(out.matches_out(name("pong"), uri("pong"), root_client));
  EXPECT_TRUE(in.matches_in(name("pong"), RemotePeer{ipc::Scheme::tcp, "127.0.0.1", 1, "", ""}));
}

// --- in rules ------------------------------------------------------------------------------

TEST(AnInRule, MatchesThePeersSchemeAddressPortAndIdentity) {
  using ipc::Scheme;
  struct Case {
    std::string peer;
    RemotePeer remote;
    bool matches;
  };
  const std::vector<Case> cases{
      {"*", {Scheme::tcp, "192.0.2.1", 1, "", ""}, true},
      {"*", {Scheme::tcp, "", 0, "", ""}, true},
      // scheme and exact address
      {"tcp:127.0.0.1", {Scheme::tcp, "127.0.0.1", 5000, "", ""}, true},
      {"tcp:127.0.0.1", {Scheme::ws, "127.0.0.1", 5000, "", ""}, false},
      {"tcp:127.0.0.1", {Scheme::tcp, "127.0.0.2", 5000, "", ""}, false},
      {"*:127.0.0.1", {Scheme::wss, "127.0.0.1", 5000, "", ""}, true},
      // IPv4 CIDR, also against IPv4-mapped IPv6 addresses
      {"tcp:127.0.0.0/8", {Scheme::tcp, "127.9.9.9", 1, "", ""}, true},
      {"tcp:127.0.0.0/8", {Scheme::tcp, "::ffff:127.0.0.2", 1, "", ""}, true},
      {"tcp:127.0.0.0/8", {Scheme::tcp, "128.0.0.1", 1, "", ""}, false},
      {"tcp:192.168.1.0/24", {Scheme::tcp, "192.168.1.255", 1, "", ""}, true},
      {"tcp:192.168.1.0/24", {Scheme::tcp, "192.168.2.0", 1, "", ""}, false},
      {"tcp:192.168.1.128/25", {Scheme::tcp, "192.168.1.127", 1, "", ""}, false},
      {"tcp:192.168.1.128/25", {Scheme::tcp, "192.168.1.200", 1, "", ""}, true},
      {"tcp:0.0.0.0/0", {Scheme::tcp, "8.8.8.8", 1, "", ""}, true},
      {"tcp:0.0.0.0/0", {Scheme::tcp, "2001:db8::1", 1, "", ""}, false},
      {"tcp:10.0.0.0/8", {Scheme::tcp, "", 1, "", ""}, false},
      // IPv6 CIDR, bracketed or not
      {"*:[2001:db8::]/32", {Scheme::wss, "2001:db8::7", 1, "", ""}, true},
      {"*:[2001:db8::]/32", {Scheme::wss, "2001:db9::7", 1, "", ""}, false},
      {"*:2001:db8::/32", {Scheme::wss, "2001:db8:ffff::1", 1, "", ""}, true},
      {"tcp:[fd00::]/8", {Scheme::tcp, "fdff::1", 1, "", ""}, true},
      {"tcp:[fd00::]/8", {Scheme::tcp, "fe00::1", 1, "", ""}, false},
      {"tcp:[fd00::]/8", {Scheme::tcp, "10.0.0.1", 1, "", ""}, false},
      {"tcp:[::1]", {Scheme::tcp, "::1", 1, "", ""}, true},
      {"tcp:[::1]", {Scheme::tcp, "0:0:0:0:0:0:0:1", 1, "", ""}, true},
      {"tcp:[::1]", {Scheme::tcp, "127.0.0.1", 1, "", ""}, false},
      // ports
      {"tcp:127.0.0.1:5000", {Scheme::tcp, "127.0.0.1", 5000, "", ""}, true},
      {"tcp:127.0.0.1:5000", {Scheme::tcp, "127.0.0.1", 5001, "", ""}, false},
      {"tcp:127.0.0.1:*", {Scheme::tcp, "127.0.0.1", 5001, "", ""}, true},
      {"tcp:[::1]:9000", {Scheme::tcp, "::1", 9000, "", ""}, true},
      {"tcp:[::1]:9000", {Scheme::tcp, "::1", 9001, "", ""}, false},
      {"tcp:*:9000", {Scheme::tcp, "", 0, "", ""}, false},
      // globs against the address string
      {"tcp:192.0.2.*", {Scheme::tcp, "192.0.2.77", 1, "", ""}, true},
      {"tcp:192.0.2.*", {Scheme::tcp, "192.0.3.77", 1, "", ""}, false},
      {"tcp:*", {Scheme::tcp, "", 0, "", ""}, true},
      // a certificate name stands for the host
      {"tls:*.example.com", {Scheme::tls, "192.0.2.1", 1, "", "node.example.com"}, true},
      {"tls:*.example.com", {Scheme::tls, "192.0.2.1", 1, "", "NODE.Example.COM"}, true},
      {"tls:*.example.com", {Scheme::tls, "192.0.2.1", 1, "", ""}, false},
      {"tls:*.example.com", {Scheme::tls, "192.0.2.1", 1, "", "node.example.net"}, false},
      {"tls:example.com:50000", {Scheme::tls, "192.0.2.1", 50000, "", "example.com"}, true},
      {"tls:example.com:50000", {Scheme::tls, "192.0.2.1", 50001, "", "example.com"}, false},
      {"tcp:example.com", {Scheme::tls, "192.0.2.1", 1, "", "example.com"}, false},
      {"tls:192.0.2.0/24", {Scheme::tls, "198.51.100.1", 1, "", "192.0.2.1"}, false},  // a CIDR block never looks at names
      // ...but a PSK identity or a user name never does
      {"tls:*.example.com", {Scheme::tls, "192.0.2.1", 1, "node.example.com", ""}, false},
      // id: globs, case-sensitive, never an empty identity
      {"id:alice", {Scheme::tls, "192.0.2.1", 1, "alice", ""}, true},
      {"id:alice", {Scheme::tls, "192.0.2.1", 1, "Alice", ""}, false},
      {"id:al*", {Scheme::tls, "192.0.2.1", 1, "alfred", ""}, true},
      {"id:alice", {Scheme::tls, "192.0.2.1", 1, "bob", ""}, false},
      {"id:*", {Scheme::tcp, "192.0.2.1", 1, "", ""}, false},
      {"id:*", {Scheme::ws, "", 0, "psk-client-1", ""}, true},
      {"id:*.example.com", {Scheme::tls, "192.0.2.1", 1, "node.example.com", "node.example.com"}, true},
  };
  for (const auto& c : cases) {
    const auto rule = Rule::parse("allow", "in", "pong", c.peer);
    EXPECT_EQ(rule.matches_in(name("pong"), c.remote), c.matches)
        << c.peer << " vs " << ipc::to_string(c.remote.scheme) << " '" << c.remote.address << "' port " << c.remote.port
        << " identity '" << c.remote.identity << "' certificate '" << c.remote.certificate << "'";
    EXPECT_FALSE(rule.matches_in(name("ping"), c.remote)) << c.peer;
  }
}

// --- decisions -----------------------------------------------------------------------------

TEST(ThePolicy, LetsTheFirstMatchingRuleDecide) {
  const RemotePeer local_peer{ipc::Scheme::tcp, "127.0.0.1", 40000, "", ""};
  const RemotePeer far_peer{ipc::Scheme::tcp, "198.51.100.1", 40000, "", ""};
  const auto allow_first = policy_of({"deny out pong tcp:*.example.org", "allow in pong tcp:127.0.0.1",
                                      "deny in pong *", "allow out * *", "allow in * *"});
  EXPECT_EQ(allow_first.check_in(name("pong"), local_peer).because, "rule 2: allow in pong tcp:127.0.0.1");
  EXPECT_EQ(allow_first.check_in(name("pong"), far_peer).because, "rule 3: deny in pong *");
  EXPECT_EQ(allow_first.check_in(name("pong"), far_peer).action, Action::deny);
  EXPECT_EQ(allow_first.check_in(name("ping"), far_peer).because, "rule 5: allow in * *");
  EXPECT_EQ(allow_first.check_out(name("pong"), uri("tcp://a.example.org/pong"), root_client).because,
            "rule 1: deny out pong tcp:*.example.org");
  EXPECT_EQ(allow_first.check_out(name("pong"), uri("tcp://a.example.org/pong"), root_client).action, Action::deny);
  EXPECT_EQ(allow_first.check_out(name("pong"), uri("tcp://a.example.com/pong"), root_client).because,
            "rule 4: allow out * *");

  const auto deny_first = policy_of({"deny in pong *", "allow in pong tcp:127.0.0.1"});
  EXPECT_EQ(deny_first.check_in(name("pong"), local_peer).action, Action::deny);
  EXPECT_EQ(deny_first.check_in(name("pong"), local_peer).because, "rule 1: deny in pong *");
}

TEST(ThePolicy, TakesAnOutDecisionForAHostNameAgainForEachAddressWhenARuleOnAddressesComesFirst) {
  const std::string loopback = "127.0.0.1";
  const std::string elsewhere = "192.0.2.1";
  const auto deny_loopback = policy_of({"deny out * tcp:127.0.0.0/8"});
  // The name alone: allowed by default, but rule 1 could match one of its addresses.
  const auto named = deny_loopback.check_out(name("pong"), uri("tcp://localhost:9000/pong"), root_client);
  EXPECT_EQ(named.action, Action::allow);
  EXPECT_TRUE(named.depends_on_addresses);
  const auto at_loopback = deny_loopback.check_out(name("pong"), uri("tcp://localhost:9000/pong"), root_client, &loopback);
  EXPECT_EQ(at_loopback.action, Action::deny);
  EXPECT_EQ(at_loopback.because, "rule 1: deny out * tcp:127.0.0.0/8");
  EXPECT_FALSE(at_loopback.depends_on_addresses);
  EXPECT_EQ(deny_loopback.check_out(name("pong"), uri("tcp://localhost:9000/pong"), root_client, &elsewhere).action,
            Action::allow);
  // An address in the URI is matched as it is: nothing to take again.
  EXPECT_FALSE(deny_loopback.check_out(name("pong"), uri("tcp://127.0.0.1/pong"), root_client).depends_on_addresses);
  EXPECT_FALSE(deny_loopback.check_out(name("pong"), uri("tcp://[::1]/pong"), root_client).depends_on_addresses);
  // A local destination has no address.
  EXPECT_FALSE(deny_loopback.check_out(name("pong"), uri("pong"), root_client).depends_on_addresses);
  // Another scheme or port than the rule's: the rule cannot match whatever the address.
  EXPECT_FALSE(deny_loopback.check_out(name("pong"), uri("ws://localhost/pong"), root_client).depends_on_addresses);
  EXPECT_FALSE(policy_of({"deny out * tcp:127.0.0.0/8:80"})
                   .check_out(name("pong"), uri("tcp://localhost:9000/pong"), root_client)
                   .depends_on_addresses);
  // A glob that meets an address's text reads addresses; one with letters no address has does not.
  EXPECT_TRUE(policy_of({"deny out * tcp:127.*"}).check_out(name("p"), uri("tcp://vm/p"), root_client).depends_on_addresses);
  EXPECT_TRUE(policy_of({"deny out * tcp:fd00*"}).check_out(name("p"), uri("tcp://vm/p"), root_client).depends_on_addresses);
  EXPECT_EQ(policy_of({"deny out * tcp:127.*"}).check_out(name("p"), uri("tcp://vm/p"), root_client, &loopback).action,
            Action::deny);
  EXPECT_FALSE(
      policy_of({"deny out * tcp:*.example.org"}).check_out(name("p"), uri("tcp://vm/p"), root_client).depends_on_addresses);
  EXPECT_FALSE(policy_of({"deny out * *"}).check_out(name("p"), uri("tcp://vm/p"), root_client).depends_on_addresses);
}

TEST(ThePolicy, KeepsFirstMatchWhenDecisionsAreTakenPerAddress) {
  const std::string loopback = "127.0.0.1";
  const std::string elsewhere = "192.0.2.1";
  // A rule on the name before the rule on addresses decides alone.
  const auto name_first = policy_of({"allow out * tcp:localhost", "deny out * tcp:127.0.0.0/8"});
  const auto by_name = name_first.check_out(name("pong"), uri("tcp://localhost/pong"), root_client);
  EXPECT_EQ(by_name.because, "rule 1: allow out * tcp:localhost");
  EXPECT_FALSE(by_name.depends_on_addresses);
  // After it, the name's deny depends on the addresses: an address may be allowed first.
  Policy allow_block = policy_of({"allow out * tcp:127.0.0.0/8", "deny out * tcp:localhost"});
  const auto denied_by_name = allow_block.check_out(name("pong"), uri("tcp://localhost/pong"), root_client);
  EXPECT_EQ(denied_by_name.action, Action::deny);
  EXPECT_TRUE(denied_by_name.depends_on_addresses);
  EXPECT_EQ(allow_block.check_out(name("pong"), uri("tcp://localhost/pong"), root_client, &loopback).because,
            "rule 1: allow out * tcp:127.0.0.0/8");
  EXPECT_EQ(allow_block.check_out(name("pong"), uri("tcp://localhost/pong"), root_client, &elsewhere).because,
            "rule 2: deny out * tcp:localhost");
  // With out denied by default, a block may allow a name's address.
  Policy closed = policy_of({"allow out * tcp:192.0.2.0/24"});
  closed.set_default(Direction::out, Action::deny);
  EXPECT_TRUE(closed.check_out(name("pong"), uri("tcp://vm/pong"), root_client).depends_on_addresses);
  EXPECT_EQ(closed.check_out(name("pong"), uri("tcp://vm/pong"), root_client, &elsewhere).action, Action::allow);
  EXPECT_EQ(closed.check_out(name("pong"), uri("tcp://vm/pong"), root_client, &loopback).because, "default out deny");
  // The destination's service counts per address too.
  const auto alias = policy_of({"deny out secret tcp:127.0.0.0/8"});
  EXPECT_TRUE(alias.check_out(name("x"), uri("tcp://localhost/secret"), root_client).depends_on_addresses);
  EXPECT_EQ(alias.check_out(name("x"), uri("tcp://localhost/secret"), root_client, &loopback).action, Action::deny);
  EXPECT_EQ(alias.check_out(name("x"), uri("tcp://localhost/secret"), root_client, &elsewhere).action, Action::allow);
}

TEST(ThePolicy, DeniesInAndAllowsOutByDefault) {
  const Policy policy = policy_of({"allow in pong tcp:127.0.0.1", "deny out secret *"});
  const RemotePeer stranger{ipc::Scheme::tcp, "192.0.2.9", 1, "", ""};
  const auto in = policy.check_in(name("pong"), stranger);
  EXPECT_EQ(in.action, Action::deny);
  EXPECT_EQ(in.because, "default in deny");
  const auto out = policy.check_out(name("pong"), uri("pong"), nobody_in_particular);
  EXPECT_EQ(out.action, Action::allow);
  EXPECT_EQ(out.because, "default out allow");
  EXPECT_EQ(Policy{}.check_in(name("x"), stranger).because, "default in deny");
  EXPECT_EQ(Policy{}.check_out(name("x"), uri("x"), {}).because, "default out allow");
}

TEST(ThePolicy, LetsBothDefaultsBeChanged) {
  Policy policy = policy_of({"deny in pong tcp:192.0.2.9", "allow out pong uid:4242"});
  policy.set_default(Direction::in, Action::allow);
  policy.set_default(Direction::out, Action::deny);
  const RemotePeer stranger{ipc::Scheme::tcp, "192.0.2.10", 1, "", ""};
  EXPECT_EQ(policy.check_in(name("pong"), stranger).action, Action::allow);
  EXPECT_EQ(policy.check_in(name("pong"), stranger).because, "default in allow");
  EXPECT_EQ(policy.check_out(name("pong"), uri("pong"), root_client).action, Action::deny);
  EXPECT_EQ(policy.check_out(name("pong"), uri("pong"), root_client).because, "default out deny");
  // the rules still come first
  EXPECT_EQ(policy.check_in(name("pong"), RemotePeer{ipc::Scheme::tcp, "192.0.2.9", 1, "", ""}).action, Action::deny);
  EXPECT_EQ(policy.check_out(name("pong"), uri("pong"), nobody_in_particular).action, Action::allow);
  // and a default can be set back
  policy.set_default(Direction::in, Action::deny);
  EXPECT_EQ(policy.check_in(name("pong"), stranger).because, "default in deny");
}

TEST(ThePolicy, NamesActionsAndDirectionsAsTheRulesSpellThem) {
  EXPECT_EQ(to_string(Action::allow), "allow");
  EXPECT_EQ(to_string(Action::deny), "deny");
  EXPECT_EQ(to_string(Direction::in), "in");
  EXPECT_EQ(to_string(Direction::out), "out");
}

TEST(ThePolicy, LetsOutRulesOnTheDestinationsServiceOnlyDenyMore) {
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

// --- redirections --------------------------------------------------------------------------

// Builds s0 -> s1 -> ... -> s{hops}.
Policy chain_of(int hops) {
  Policy policy;
  for (int i = 0; i < hops; ++i) policy.add_redirect("s" + std::to_string(i), "s" + std::to_string(i + 1));
  return policy;
}

TEST(ARedirect, LeavesAServiceWithoutOneAlone) {
  const auto resolved = Policy{}.resolve(name("pong"));
  EXPECT_EQ(resolved.service.str(), "pong");
  EXPECT_FALSE(resolved.uri);
  EXPECT_EQ(resolved.hops, std::vector<std::string>{"pong"});
}

TEST(ARedirect, SendsAServiceToAnotherOneInOneHop) {
  Policy policy;
  policy.add_redirect("authd", "nextversion-authd");
  const auto resolved = policy.resolve(name("authd"));
  EXPECT_EQ(resolved.service.str(), "nextversion-authd");
  EXPECT_FALSE(resolved.uri);
  EXPECT_EQ(resolved.hops, (std::vector<std::string>{"authd", "nextversion-authd"}));
  EXPECT_EQ(policy.resolve(name("nextversion-authd")).hops, std::vector<std::string>{"nextversion-authd"});
}

TEST(ARedirect, AcceptsALocalUnixUriAsATarget) {
  Policy policy;
  policy.add_redirect("a", "unix:///b");
  policy.add_redirect("b", "unix:c");
  const auto resolved = policy.resolve(name("a"));
  EXPECT_EQ(resolved.service.str(), "c");
  EXPECT_FALSE(resolved.uri);
  EXPECT_EQ(resolved.hops, (std::vector<std::string>{"a", "b", "c"}));
}

TEST(ARedirect, ChainFollowsEightHops) {
  const auto resolved = chain_of(8).resolve(name("s0"));
  EXPECT_EQ(resolved.service.str(), "s8");
  EXPECT_FALSE(resolved.uri);
  ASSERT_EQ(resolved.hops.size(), 9u);
  for (std::size_t i = 0; i < resolved.hops.size(); ++i) EXPECT_EQ(resolved.hops[i], "s" + std::to_string(i));
  // starting further down the chain is shorter
  EXPECT_EQ(chain_of(8).resolve(name("s5")).hops.size(), 4u);
}

TEST(ARedirect, ChainOfNineHopsIsALoopNamingTheChain) {
  const auto error = error_of([] { (void)chain_of(9).resolve(name("s0")); }, "nine hops");
  EXPECT_EQ(error.code(), ipc::ErrorCode::loop);
  EXPECT_NE(error.text().find("redirect loop: s0 -> s1 -> s2 -> s3 -> s4 -> s5 -> s6 -> s7 -> s8 -> s9"),
            std::string::npos)
      << error.text();
  EXPECT_NE(error.text().find("more than 8"), std::string::npos) << error.text();
  // the same chain entered one hop later has eight hops, and resolves
  EXPECT_EQ(chain_of(9).resolve(name("s1")).service.str(), "s9");
}

TEST(ARedirect, CycleIsALoopNamingTheChain) {
  struct Case {
    std::vector<std::pair<std::string, std::string>> redirects;
    std::string start, chain;
  };
  const std::vector<Case> cases{
      {{{"a", "b"}, {"b", "a"}}, "a", "redirect loop: a -> b -> a"},
      {{{"a", "b"}, {"b", "a"}}, "b", "redirect loop: b -> a -> b"},
      {{{"a", "a"}}, "a", "redirect loop: a -> a"},
      {{{"x", "a"}, {"a", "b"}, {"b", "c"}, {"c", "a"}}, "x", "redirect loop: x -> a -> b -> c -> a"},
  };
  for (const auto& c : cases) {
    Policy policy;
    for (const auto& [from, to] : c.redirects) policy.add_redirect(from, to);
    const auto error = error_of([&] { (void)policy.resolve(name(c.start)); }, c.chain);
    EXPECT_EQ(error.code(), ipc::ErrorCode::loop) << c.chain;
    EXPECT_EQ(error.text(), c.chain);
  }
}

TEST(ARedirect, ToAUriEndsTheChainWithTheFarSidesName) {
  Policy policy;
  policy.add_redirect("authd", "nextversion-authd");
  policy.add_redirect("nextversion-authd", "tls://user:secret@auth.example.com/authd2");
  policy.add_redirect("authd2", "never-followed");  // a local name on this host, not the far side's
  const auto resolved = policy.resolve(name("authd"));
  ASSERT_TRUE(resolved.uri);
  EXPECT_EQ(resolved.uri->scheme(), ipc::Scheme::tls);
  EXPECT_EQ(resolved.uri->host(), "auth.example.com");
  EXPECT_EQ(resolved.uri->port(), 9443);
  EXPECT_EQ(resolved.uri->password(), "secret");  // the broker needs it to connect
  EXPECT_EQ(resolved.service.str(), "authd2");
  EXPECT_EQ(resolved.hops,
            (std::vector<std::string>{"authd", "nextversion-authd", "tls://user:***@auth.example.com:9443/authd2"}));
}

TEST(ARedirect, RefusesAnInvalidServiceOrTarget) {
  struct Case {
    std::string service, target, says;
  };
  const std::vector<Case> cases{
      {"../x", "y", "redirect"},
      {"a/b", "y", "redirect"},
      {"", "y", "redirect"},
      {"*", "y", "redirect"},
      {"x", "", ""},
      {"x", "../y", ""},
      {"x", "ftp://host/y", "ftp"},
      {"x", "tcp://host/", ""},
      {"x", "tcp://host:99999/y", ""},
      {"x", "tcp:///y", ""},
      {"x", "a b", ""},
  };
  for (const auto& c : cases) {
    Policy policy;
    const auto error = error_of([&] { policy.add_redirect(c.service, c.target); }, c.service + " -> " + c.target);
    EXPECT_EQ(error.code(), ipc::ErrorCode::bad_request) << c.service << " -> " << c.target;
    EXPECT_NE(error.text().find(c.says), std::string::npos) << error.text();
    EXPECT_EQ(policy.resolve(name("x")).hops.size(), 1u);  // nothing was added
  }
}

// --- routes --------------------------------------------------------------------------------

TEST(ARoute, IsFoundByItsServiceName) {
  Policy policy;
  policy.add_route("pong", "tcp://pong.example.com:9000/pong");
  policy.add_route("audio", "ws://media.example.com/audio-in");
  policy.add_route("here", "unix:///there");
  ASSERT_NE(policy.route(name("pong")), nullptr);
  EXPECT_EQ(*policy.route(name("pong")), uri("tcp://pong.example.com:9000/pong"));
  ASSERT_NE(policy.route(name("audio")), nullptr);
  EXPECT_EQ(policy.route(name("audio"))->port(), 80);
  EXPECT_EQ(policy.route(name("audio"))->service().str(), "audio-in");
  ASSERT_NE(policy.route(name("here")), nullptr);
  EXPECT_TRUE(policy.route(name("here"))->is_local());
  EXPECT_EQ(policy.route(name("other")), nullptr);
  EXPECT_EQ(policy.route(name("Pong")), nullptr);
}

TEST(ARoute, AddedAgainReplacesTheFirst) {
  Policy policy;
  policy.add_route("pong", "tcp://a.example.com/pong");
  policy.add_route("pong", "tls://b.example.com/pong");
  ASSERT_NE(policy.route(name("pong")), nullptr);
  EXPECT_EQ(policy.route(name("pong"))->host(), "b.example.com");
}

TEST(ARoute, RefusesAnInvalidServiceOrUri) {
  struct Case {
    std::string service, target, says;
  };
  const std::vector<Case> cases{
      {"../pong", "tcp://h/pong", "route"},
      {"", "tcp://h/pong", "route"},
      {"p*", "tcp://h/pong", "route"},
      {"pong", "tcp://:9000/pong", ""},
      {"pong", "gopher://h/pong", "gopher"},
      {"pong", "tcp://h:0/pong", ""},
      {"pong", "tcp://h/", ""},
      {"pong", "", ""},
  };
  for (const auto& c : cases) {
    Policy policy;
    const auto error = error_of([&] { policy.add_route(c.service, c.target); }, c.service + " " + c.target);
    EXPECT_EQ(error.code(), ipc::ErrorCode::bad_request) << c.service << " " << c.target;
    EXPECT_NE(error.text().find(c.says), std::string::npos) << error.text();
    EXPECT_EQ(policy.route(name("pong")), nullptr);
  }
}

// --- layers: the command line over the config file ----------------------------------------

TEST(ThePolicy, FromTwoLayersPutsTheFirstsRulesFirstAndTakesWhatItStates) {
  PolicyLayer command_line;
  command_line.rules.push_back(Rule::parse("allow in pong tcp:127.0.0.1"));
  command_line.add_redirect("authd", "newer-authd");
  command_line.add_route("pong", "tcp://near.example.com/pong");
  command_line.default_out = Action::deny;
  PolicyLayer file;
  file.rules.push_back(Rule::parse("deny in pong *"));
  file.rules.push_back(Rule::parse("allow out pong *"));
  file.add_redirect("authd", "old-authd");
  file.add_redirect("mail", "postd");
  file.add_route("pong", "tcp://far.example.com/pong");
  file.add_route("other", "tcp://far.example.com/other");
  file.default_in = Action::allow;
  file.default_out = Action::allow;
  const Policy policy = Policy::from(command_line, file);
  EXPECT_EQ(policy.to_json(), nlohmann::json::parse(R"({
    "policy": {"in": "allow", "out": "deny"},
    "rules": ["allow in pong tcp:127.0.0.1", "deny in pong *", "allow out pong *"],
    "redirects": {"authd": "newer-authd", "mail": "postd"},
    "routes": {"pong": "tcp://near.example.com:9000/pong", "other": "tcp://far.example.com:9000/other"}
  })")) << policy.to_json().dump(2);
  const RemotePeer local{ipc::Scheme::tcp, "127.0.0.1", 1, "", ""};
  EXPECT_EQ(policy.check_in(name("pong"), local).because, "rule 1: allow in pong tcp:127.0.0.1");
  // A layer that states nothing changes nothing: the built-in defaults stand.
  EXPECT_EQ(Policy::from(PolicyLayer{}).to_json(), Policy{}.to_json());
}

TEST(ALayer, RefusesAnInvalidRedirectOrRouteAsThePolicyDoes) {
  PolicyLayer layer;
  EXPECT_THROW(layer.add_redirect("../x", "y"), ipc::Error);
  EXPECT_THROW(layer.add_redirect("x", "ftp://host/y"), ipc::Error);
  EXPECT_THROW(layer.add_route("pong", "tcp://:9000/pong"), ipc::Error);
  EXPECT_TRUE(layer.redirects.empty());
  EXPECT_TRUE(layer.routes.empty());
}

// --- JSON ----------------------------------------------------------------------------------

TEST(ThePolicy, DescribesItselfInTheConfigFilesShape) {
  Policy policy = policy_of({"allow in pong tcp:127.0.0.1", "deny out * tcp:*.example.org"});
  policy.set_default(Direction::out, Action::deny);
  policy.add_redirect("authd", "nextversion-authd");
  policy.add_redirect("old", "tls://user:secret@auth.example.com/authd");
  policy.add_route("pong", "tcp://pong.example.com/pong");
  policy.add_route("secret", "wss://alice:pw@example.com/secret");
  const auto expected = nlohmann::json::parse(R"({
    "policy": {"in": "deny", "out": "deny"},
    "rules": ["allow in pong tcp:127.0.0.1", "deny out * tcp:*.example.org"],
    "redirects": {"authd": "nextversion-authd", "old": "tls://user:***@auth.example.com:9443/authd"},
    "routes": {"pong": "tcp://pong.example.com:9000/pong", "secret": "wss://alice:***@example.com:443/secret"}
  })");
  EXPECT_EQ(policy.to_json(), expected) << policy.to_json().dump(2);
  EXPECT_EQ(policy.to_json().dump().find("secret@"), std::string::npos);
  EXPECT_EQ(policy.to_json().dump().find(":pw@"), std::string::npos);
}

TEST(ThePolicy, OfNothingIsTheDefaultsAndEmptyCollections) {
  EXPECT_EQ(Policy{}.to_json(), nlohmann::json::parse(R"({"policy": {"in": "deny", "out": "allow"}, "rules": [],
                                                          "redirects": {}, "routes": {}})"));
}

TEST(ThePolicy, ReadsBackItsOwnJsonUnchanged) {
  Policy policy = policy_of({"allow in * id:*.example.com", "deny out pong group:root"});
  policy.set_default(Direction::in, Action::allow);
  policy.add_redirect("a", "b");
  policy.add_route("pong", "tcp://[::1]:9001/pong");
  const auto json = policy.to_json();
  EXPECT_EQ(parse_config(json, "(round trip)").policy.to_json(), json);
}

// --- globs ---------------------------------------------------------------------------------

TEST(TheGlob, MatchesStarsAndQuestionMarks) {
  struct Case {
    std::string pattern, text;
    bool matches;
  };
  const std::vector<Case> cases{
      {"", "", true},
      {"", "a", false},
      {"*", "", true},
      {"*", "anything", true},
      {"**", "", true},
      {"?", "", false},
      {"?", "a", true},
      {"?", "ab", false},
      {"p*g", "pong", true},
      {"p*g", "pg", true},
      {"p*g", "pongs", false},
      {"p?ng", "pong", true},
      {"p?ng", "pooong", false},
      {"*.example.org", ".example.org", true},
      {"a*b*c", "aXbYc", true},
      {"a*b*c", "aXcYb", false},
      {"*a", "banana", true},
      {"*n?", "banana", true},
      {"a*", "a*b", true},
      {"a*c", "a*b", false},
      {"pong", "Pong", false},
      {"ab", "a", false},
      {"a", "ab", false},
  };
  for (const auto& c : cases) EXPECT_EQ(ipc::glob_match(c.pattern, c.text), c.matches) << c.pattern << " vs " << c.text;
  EXPECT_TRUE(ipc::glob_match("*.Example.ORG", "a.example.org", ipc::Case::insensitive));
  EXPECT_FALSE(ipc::glob_match("*.Example.ORG", "a.example.org", ipc::Case::sensitive));
}

TEST(TheGlob, StaysLinearOnHostilePatterns) {
  // A backtracking matcher takes exponential time here; the iterative one answers at once.
  const std::string many_a(100000, 'a');
  EXPECT_FALSE(ipc::glob_match("*a*a*a*a*a*a*a*a*a*a*a*a*b", many_a));
  EXPECT_TRUE(ipc::glob_match("*a*a*a*a*a*a*a*a*a*a*a*a*b", many_a + "b"));
  EXPECT_FALSE(ipc::glob_match(std::string(64, '*') + "?b", many_a));
  const auto rule = Rule::parse("deny in " + std::string(30, '*') + "x *");
  EXPECT_FALSE(rule.matches_in(name(std::string(64, 'a')), RemotePeer{}));
}

}  // namespace
}  // namespace ipcd
