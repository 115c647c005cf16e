// Integration tests of the trust boundaries (DESIGN §4, §6, §8, §12, §15): ipcd's decisions
// bind every client, only ipcd delegates, only protocol daemons send INBOUND, the daemons'
// sockets are never services, and every fd handed out is blocking. Requests "as another uid"
// run tests/support/frame_peer under setpriv as the user nobody (the tests run as root).
#include <gtest/gtest.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ipc/client.hpp>
#include <ipc/fd.hpp>
#include <fstream>
#include <sstream>
#include <string>

#include "support/harness.hpp"

namespace ipc::test {
namespace {

constexpr const char* nobody = "65534";

// A loopback listener that counts the connections made to it (never answers them).
struct CountingListener {
  UniqueFd fd;
  int port = 0;
  CountingListener() {
    fd.reset(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd.get(), 64) != 0)
      throw std::runtime_error("listen");
    socklen_t len = sizeof addr;
    ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&addr), &len);
    port = ntohs(addr.sin_port);
  }
  // Connections accepted so far (they are kept open, so a peer sees no reset).
  int accepted() {
    for (;;) {
      UniqueFd c(::accept4(fd.get(), nullptr, nullptr, SOCK_CLOEXEC));
      if (!c) return static_cast<int>(kept.size());
      kept.push_back(std::move(c));
    }
  }
  std::vector<UniqueFd> kept;
};

bool is_blocking(int fd) { return (::fcntl(fd, F_GETFL) & O_NONBLOCK) == 0; }

class Trust : public ::testing::Test {
 protected:
  TempDir dir;
  std::filesystem::path a = dir / "a";
  std::filesystem::path b = dir / "b";

  void SetUp() override {
    // nobody must reach the run directories (mkdtemp made the test's directory 0700).
    ::chmod(dir.path().c_str(), 0755);
    std::filesystem::create_directories(a);
    std::filesystem::create_directories(b);
  }
  Process start(const std::filesystem::path& rundir, const std::string& name, std::vector<std::string> args = {}) {
    return start_daemon(name, rundir, std::move(args), dir.path());
  }
  // One raw request on RUNDIR/SOCKET, as `uid` (root when empty): "TYPE PAYLOAD[ +fd]".
  std::string ask(const std::filesystem::path& rundir, const std::string& socket, const std::string& kind,
                  const std::string& payload, const std::string& uid = "") {
    std::vector<std::string> args{(rundir / socket).string(), kind, payload};
    RunResult r;
    if (uid.empty()) {
      r = run(program("frame_peer"), args);
    } else {
      args.insert(args.begin(), {"--reuid=" + uid, "--regid=" + uid, "--clear-groups", program("frame_peer").string()});
      r = run("/usr/bin/setpriv", args);
    }
    while (!r.out.empty() && r.out.back() == '\n') r.out.pop_back();
    return r.out + r.err;
  }
  RunResult pong(const std::filesystem::path& rundir, std::vector<std::string> args, const std::string& network = "") {
    args.insert(args.begin(), {"--rundir", rundir.string()});
    return run(program("pong"), args, {{"IPC_NETWORK", network}});
  }
  // Host B: ipcd allowing pong in, tcpd on a free port (plain, and TLS with a pre-shared key),
  // websocketd on a free port, pongd.
  struct HostB {
    Process ipcd, tcpd, websocketd, pongd;
    int tcp_port, tls_port, ws_port;
  };
  HostB start_b() {
    auto ipcd = start(b, "ipcd", {"--allow", "in", "pong", "*"});
    auto tcpd = start(b, "tcpd", {"--listen", "127.0.0.1:0", "--listen-tls", "127.0.0.1:0", "--psk", psk});
    auto websocketd = start(b, "websocketd", {"--listen", "127.0.0.1:0"});
    auto pongd = start(b, "pongd");
    const int tcp_port = logged_port(tcpd), tls_port = logged_port(tcpd, "listening for TLS on");
    const int ws_port = logged_port(websocketd);
    return {std::move(ipcd), std::move(tcpd), std::move(websocketd), std::move(pongd), tcp_port, tls_port, ws_port};
  }
  static constexpr const char* psk = "alice:00112233445566778899aabbccddeeff";
};

// The echo check, with plain blocking send() and recv() as the original C libipc does them.
void expect_blocking_echo(int fd, const std::string& text) {
  ASSERT_TRUE(is_blocking(fd)) << "the fd handed over is non-blocking";
  write_all(fd, encode(Message::data(text, 7)));
  std::string got;
  char buffer[4096];
  while (got.size() < header_size + text.size()) {
    const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);  // blocking: EAGAIN here is the bug
    ASSERT_GT(n, 0) << "recv: " << std::strerror(errno);
    got.append(buffer, static_cast<std::size_t>(n));
  }
  EXPECT_EQ(got.substr(header_size), text);
}

TEST_F(Trust, ConnectFromAnotherUidIsDeniedOnEveryProtocolSocketAndNothingIsContacted) {
  auto ipcd = start(a, "ipcd");
  auto tcpd = start(a, "tcpd", {"--no-listen", "--handshake-timeout", "1", "--psk", psk});
  auto websocketd = start(a, "websocketd", {"--no-listen", "--timeout", "1"});
  CountingListener target;
  const std::string port = std::to_string(target.port);
  for (const std::string scheme : {"tcp", "tls", "ws", "wss"}) {
    const std::string user = scheme == "tls" ? "alice@" : "";
    const std::string body = R"({"uri":")" + scheme + "://" + user + "127.0.0.1:" + port +
                             R"(/secret","service":"secret","client":{"uid":0,"gid":0,"pid":1}})";
    const auto answer = ask(a, scheme, "connect", body, nobody);
    EXPECT_EQ(answer.rfind("ERROR denied: CONNECT is only taken from ipcd's user", 0), 0u) << scheme << ": " << answer;
    EXPECT_EQ(target.accepted(), 0) << scheme << ": the daemon connected for a uid that is not ipcd's";
  }
  EXPECT_NE(tcpd.log().find("CONNECT refused to uid 65534"), std::string::npos) << tcpd.log();
  EXPECT_NE(websocketd.log().find("CONNECT refused to uid 65534"), std::string::npos) << websocketd.log();
  // The control: the same request from root (ipcd's user here) does reach the target.
  (void)ask(a, "tcp", "connect", R"({"uri":"tcp://127.0.0.1:)" + port + R"(/secret","service":"secret"})");
  EXPECT_TRUE(wait_until([&] { return target.accepted() == 1; }));
  EXPECT_EQ(tcpd.stop(), 0);
  EXPECT_EQ(websocketd.stop(), 0);
}

TEST_F(Trust, BrokerUserNamesWhoMayDelegateAndAnUnknownUserIsABadFlag) {
  auto tcpd = start(a, "tcpd", {"--no-listen", "--broker-user", "nobody", "--handshake-timeout", "1"});
  CountingListener target;
  const std::string body = R"({"uri":"tcp://127.0.0.1:)" + std::to_string(target.port) + R"(/pong","service":"pong"})";
  (void)ask(a, "tcp", "connect", body, nobody);
  EXPECT_TRUE(wait_until([&] { return target.accepted() == 1; })) << tcpd.log();
  const auto bad = run(program("tcpd"), {"--rundir", b.string(), "--broker-user", "no-such-user-here"});
  EXPECT_EQ(bad.status, 2);
  EXPECT_NE(bad.err.find("--broker-user: 'no-such-user-here' is not a user on this system"), std::string::npos) << bad.err;
  const auto bad_ws = run(program("websocketd"), {"--rundir", b.string(), "--broker-user", "no-such-user-here"});
  EXPECT_EQ(bad_ws.status, 2) << bad_ws.err;
  const auto bad_ipcd = run(program("ipcd"), {"--rundir", b.string(), "--trust-inbound", "no-such-user-here"});
  EXPECT_EQ(bad_ipcd.status, 2) << bad_ipcd.err;
}

TEST_F(Trust, InboundAndReloadFromAServicesUidAreDenied) {
  auto ipcd = start(a, "ipcd", {"--allow", "in", "pong", "*"});
  auto pongd = start(a, "pongd");
  const std::string inbound = R"({"service":"pong","scheme":"tls","peer":"192.0.2.7:1","identity":"admin"})";
  const auto forged = ask(a, "ipc", "inbound", inbound, nobody);
  EXPECT_EQ(forged.rfind("ERROR denied: INBOUND is only taken from the protocol daemons' users", 0), 0u) << forged;
  const auto reload = ask(a, "ipc", "status", R"({"command":"reload"})", nobody);
  EXPECT_EQ(reload.rfind("ERROR denied: reload is only taken from", 0), 0u) << reload;
  // The controls: root's INBOUND gets the service; a uid named by --trust-inbound does too.
  EXPECT_EQ(ask(a, "ipc", "inbound", inbound), "DATA ok +fd");
  EXPECT_EQ(ipcd.stop(), 0);
  auto trusting = start(a, "ipcd", {"--allow", "in", "pong", "*", "--trust-inbound", "nobody"});
  EXPECT_EQ(ask(a, "ipc", "inbound", inbound, nobody), "DATA ok +fd");
}

TEST_F(Trust, AnInboundPeerThatIsNotAnAddressAndAPortIsRefused) {
  auto ipcd = start(a, "ipcd", {"--deny", "in", "pong", "tcp:*:5", "--allow", "in", "pong", "*"});
  auto pongd = start(a, "pongd");
  for (const std::string peer : {"1.2.3.4:5abc", "1.2.3.4:0", "1.2.3.4:65541", "1.2.3.4", "localhost:5", "::1:5",
                                 "[::1:5", "1.2.3.4:+5"}) {
    const auto answer = ask(a, "ipc", "inbound", R"({"service":"pong","scheme":"tcp","peer":")" + peer + R"("})");
    EXPECT_EQ(answer.rfind("ERROR bad-request: INBOUND: bad peer address", 0), 0u) << peer << ": " << answer;
  }
  // The rule for port 5 meets port 5 however the address is written.
  const auto denied = ask(a, "ipc", "inbound", R"({"service":"pong","scheme":"tcp","peer":"[::ffff:1.2.3.4]:5"})");
  EXPECT_EQ(denied.rfind("ERROR denied:", 0), 0u) << denied;
  EXPECT_EQ(ask(a, "ipc", "inbound", R"({"service":"pong","scheme":"tcp","peer":"[::1]:6"})"), "DATA ok +fd");
}

TEST_F(Trust, TheSuitesOwnSocketsAreNeverServices) {
  auto ipcd = start(a, "ipcd", {"--allow", "in", "*", "*", "--redirect", "sneaky", "tcp", "--route", "routed", "unix:tls"});
  auto tcpd = start(a, "tcpd", {"--no-listen"});
  auto pongd = start(a, "pongd");
  for (const std::string name : {"ipc", "network", "tcp", "tls", "ws", "wss", "udp", "pong@adopt"}) {
    const auto answer = ask(a, "ipc", "lookup", name + ";");
    EXPECT_EQ(answer.rfind("ERROR denied: reserved name '" + name + "'", 0), 0u) << answer;
    const auto inbound = ask(a, "ipc", "inbound", R"({"service":")" + name + R"(","scheme":"tcp","peer":"1.2.3.4:5"})");
    EXPECT_EQ(inbound.rfind("ERROR denied: reserved name", 0), 0u) << inbound;
  }
  EXPECT_EQ(ask(a, "ipc", "lookup", "sneaky;").rfind("ERROR denied: reserved name 'tcp'", 0), 0u);
  EXPECT_EQ(ask(a, "ipc", "lookup", "routed;").rfind("ERROR denied: reserved name 'tls'", 0), 0u);
  EXPECT_EQ(ask(a, "ipc", "lookup", "pong;wss unix:tcp").rfind("DATA ok +fd", 0), 0u);  // only pong is asked for
  EXPECT_EQ(ask(a, "ipc", "lookup", "wss2;wss2 unix:wss").rfind("ERROR denied: reserved name 'wss'", 0), 0u);
  EXPECT_EQ(ask(a, "ipc", "lookup", "pong;"), "DATA ok +fd");  // and ipcd serves everybody else
}

TEST_F(Trust, ASymbolicLinkInTheRunDirectoryLendsNobodyIpcdsUid) {
  // The run directory lets its members create names, as the shipped one lets the group ipc.
  ::chmod(a.c_str(), 01777);
  auto ipcd = start(a, "ipcd", {"--deny", "out", "*", "tcp:*"});
  auto tcpd = start(a, "tcpd", {"--no-listen"});
  auto pongd = start(a, "pongd");
  // Links made by nobody to the daemons' sockets, to a service's adoption socket, to a service:
  // a lookup of them would be a connection carrying ipcd's uid.
  for (const std::string target : {"tcp", "ipc", "pong@adopt", "pong"}) {
    const std::string link = "via-" + std::string(target == "pong@adopt" ? "adopt" : target);
    const auto made = run("/usr/bin/setpriv", {"--reuid=65534", "--regid=65534", "--clear-groups", "/bin/ln", "-s",
                                               (a / target).string(), (a / link).string()});
    ASSERT_EQ(made.status, 0) << made.err;
    const auto answer = ask(a, "ipc", "lookup", link + ";", "65534");
    EXPECT_EQ(answer.rfind("ERROR denied: ", 0), 0u) << link << ": " << answer;
    EXPECT_NE(answer.find("is a symbolic link"), std::string::npos) << link << ": " << answer;
  }
  // The services themselves are served on.
  EXPECT_EQ(ask(a, "ipc", "lookup", "pong;", "65534"), "DATA ok +fd");
}

TEST_F(Trust, RedirectsRoutesAndOutRulesApplyToAClientWhoseIpcNetworkIsEmpty) {
  auto hb = start_b();
  auto ipcd = start(a, "ipcd", {"--redirect", "authd", "nextversion-authd", "--route", "pong",
                                "tcp://127.0.0.1:" + std::to_string(hb.tcp_port) + "/pong", "--deny", "out", "secret", "*"});
  auto tcpd = start(a, "tcpd", {"--no-listen"});
  auto next = start(a, "pongd", {"--name", "nextversion-authd"});
  auto secret = start(a, "pongd", {"--name", "secret"});
  const auto redirected = pong(a, {"authd", "-n", "3"});
  EXPECT_EQ(redirected.status, 0) << redirected.err;
  // No pongd on A: only the static route reaches one.
  const auto routed = pong(a, {"pong", "-n", "3"});
  EXPECT_EQ(routed.status, 0) << routed.err;
  const auto denied = pong(a, {"secret"});
  EXPECT_EQ(denied.status, 1);
  EXPECT_NE(denied.err.find("denied"), std::string::npos) << denied.err;
  // Without ipcd a client goes to the service itself, but never for a service routed elsewhere.
  EXPECT_EQ(ipcd.stop(), 0);
  EXPECT_EQ(pong(a, {"secret", "-n", "1"}).status, 0);
  const auto unrouted = pong(a, {"secret"}, "secret tcp://127.0.0.1:1/secret");
  EXPECT_NE(unrouted.err.find("unavailable: ipcd is not running"), std::string::npos) << unrouted.err;
}

TEST_F(Trust, EveryFdHandedOutIsBlockingAndTheOriginalClientRoundTripsOnEveryScheme) {
  auto hb = start_b();
  // Host C: websocketd over TLS (one websocketd per run directory answers on RUNDIR/ws).
  const auto c = dir / "c";
  auto c_ipcd = start(c, "ipcd", {"--allow", "in", "pong", "*"});
  auto c_websocketd = start(c, "websocketd", {"--listen", "127.0.0.1:0", "--tls-cert", test_certificate("server.pem"),
                                              "--tls-key", test_certificate("server.key")});
  auto c_pongd = start(c, "pongd");
  const int wss_port = logged_port(c_websocketd, "listening for TLS on");
  auto ipcd = start(a, "ipcd");
  auto tcpd = start(a, "tcpd", {"--no-listen", "--psk", psk});
  auto websocketd = start(a, "websocketd", {"--no-listen", "--tls-ca", test_certificate("ca.pem")});
  auto pongd = start(a, "pongd");
  const std::map<std::string, std::string> routes{
      {"local", ""},
      {"tcp", "pong tcp://127.0.0.1:" + std::to_string(hb.tcp_port) + "/pong"},
      {"tls", "pong tls://alice@127.0.0.1:" + std::to_string(hb.tls_port) + "/pong"},
      {"ws", "pong ws://127.0.0.1:" + std::to_string(hb.ws_port) + "/pong"},
      {"wss", "pong wss://127.0.0.1:" + std::to_string(wss_port) + "/pong"}};
  for (const auto& [scheme, network] : routes) {
    SCOPED_TRACE(scheme);
    // Ours: LOOKUP on RUNDIR/ipc, the fd with the answer.
    auto fd = connect_raw(a / "ipc");
    send_frame_with_fd(fd.get(), Message{MessageType::lookup, 0, "pong;" + network}, -1);
    auto answer = recv_frame_with_fd(fd.get(), default_max_payload, 20000);
    ASSERT_TRUE(answer.fd.valid()) << answer.message.payload;
    expect_blocking_echo(answer.fd.get(), "ours over " + scheme);
    // The original C libipc 0.7 client, exactly: LOOKUP with user_type 3 on RUNDIR/network, a
    // plain recv() of the answer into a large buffer, then recvmsg() of one byte with the fd,
    // then blocking frame I/O on it.
    auto legacy = connect_raw(a / "network");
    write_all(legacy.get(), encode(Message{MessageType::lookup, 3, "pong;" + network}));
    char buffer[4096];
    ASSERT_EQ(::recv(legacy.get(), buffer, sizeof buffer, 0), 8);
    ASSERT_EQ(std::string(buffer + 6, 2), "ok");
    std::vector<UniqueFd> fds;
    char byte;
    ASSERT_EQ(recv_with_fds(legacy.get(), std::span<char>(&byte, 1), fds), 1);
    ASSERT_EQ(fds.size(), 1u);
    for (int i = 0; i < 3; ++i) expect_blocking_echo(fds[0].get(), "legacy round trip " + std::to_string(i));
  }
}

// The namespaces systemd would give ipcd under its shipped unit, as unshare(1) flags, read from
// the unit's own source (systemd/ipcd.service.in and the hardening it includes).
std::vector<std::string> unit_namespaces() {
  std::string unit;
  for (const char* file : {"ipcd.service.in", "hardening.in"}) {
    std::ifstream in(std::filesystem::path(IPC_SOURCE_DIR) / "systemd" / file);
    std::stringstream text;
    text << in.rdbuf();
    unit += text.str();
  }
  const auto has = [&](const std::string& line) { return unit.find("\n" + line + "\n") != std::string::npos; };
  std::vector<std::string> flags{"--mount"};  // ProtectSystem=, PrivateTmp=, PrivateMounts=
  if (has("PrivateNetwork=yes")) flags.push_back("--net");
  if (has("ProtectHostname=yes")) flags.push_back("--uts");
  if (has("PrivateIPC=yes")) flags.push_back("--ipc");
  if (has("PrivateUsers=yes")) flags.insert(flags.end(), {"--user", "--map-root-user"});
  return flags;
}

TEST_F(Trust, AUidRuleMatchesUnderTheNamespacesOfTheShippedUnit) {
  auto pongd = start(a, "pongd");
  auto under = [&](std::vector<std::string> flags) {
    flags.insert(flags.end(), {"--", program("ipcd").string(), "--rundir", a.string(), "--deny", "out", "pong", "uid:1000"});
    Process ipcd("/usr/bin/unshare", flags, dir.path());
    EXPECT_TRUE(ipcd.ready()) << ipcd.log();
    return ipcd;
  };
  {
    auto ipcd = under(unit_namespaces());
    const auto answer = ask(a, "ipc", "lookup", "pong;", "1000");
    EXPECT_EQ(answer.rfind("ERROR denied", 0), 0u) << answer;
    EXPECT_EQ(ask(a, "ipc", "lookup", "pong;", "1001"), "DATA ok +fd");
    EXPECT_EQ(ipcd.stop(), 0);
  }
  // Why the unit has no PrivateUsers=: in a user namespace uid 1000 shows as nobody, and the
  // rule no longer matches it.
  auto flags = unit_namespaces();
  flags.insert(flags.end(), {"--user", "--map-root-user"});
  auto ipcd = under(flags);
  EXPECT_EQ(ask(a, "ipc", "lookup", "pong;", "1000"), "DATA ok +fd");
}

// --max-held learns of closed connections from the kernel's list of Unix sockets: in the shipped
// unit's own network namespace, which holds the sockets ipcd connects.
TEST_F(Trust, MaxHeldNoticesClosedConnectionsUnderTheNamespacesOfTheShippedUnit) {
  auto pongd = start(a, "pongd");
  auto flags = unit_namespaces();
  flags.insert(flags.end(), {"--", program("ipcd").string(), "--rundir", a.string(), "--max-held", "1"});
  Process ipcd("/usr/bin/unshare", flags, dir.path());
  ASSERT_TRUE(ipcd.ready()) << ipcd.log();
  auto askers = connect_as(1001, a / "ipc", 3);
  ASSERT_EQ(askers.size(), 3u);
  const auto ask_on = [](int fd) {
    send_frame_with_fd(fd, Message{MessageType::lookup, 0, "pong;"}, -1);
    return recv_frame_with_fd(fd, default_max_payload, 15000);
  };
  auto first = ask_on(askers[0].get());
  ASSERT_EQ(first.message, Message::data("ok")) << first.message.payload;
  expect_blocking_echo(first.fd.get(), "held");
  const auto second = ask_on(askers[1].get());
  EXPECT_EQ(second.message.type, MessageType::error);
  EXPECT_EQ(second.message.payload.rfind("unavailable: uid 1001 already holds 1", 0), 0u) << second.message.payload;
  first.fd.reset();
  const auto third = ask_on(askers[2].get());
  ASSERT_EQ(third.message, Message::data("ok")) << third.message.payload << ipcd.log();
  expect_blocking_echo(third.fd.get(), "after the first closed");
  EXPECT_EQ(ipcd.stop(), 0);
}

TEST_F(Trust, AGroupRuleMatchesTheSupplementaryGroupsTheKernelReportsForTheClient) {
  // uid 4242 is in no name service at all: only the kernel knows it holds group "users" (100),
  // because setpriv gave it that group (SO_PEERGROUPS); ipcd asks no name service.
  auto ipcd = start(a, "ipcd", {"--allow", "out", "pong", "group:users", "--deny", "out", "pong", "*"});
  auto pongd = start(a, "pongd");
  const auto as = [&](std::vector<std::string> groups) {
    std::vector<std::string> args{"--reuid=4242", "--regid=4242"};
    args.insert(args.end(), groups.begin(), groups.end());
    args.insert(args.end(), {program("pong").string(), "--rundir", a.string(), "-n", "1"});
    return run("/usr/bin/setpriv", args);
  };
  const auto member = as({"--groups=100"});
  EXPECT_EQ(member.status, 0) << member.err << ipcd.log();
  const auto other = as({"--groups=50"});
  EXPECT_NE(other.status, 0);
  EXPECT_NE(other.err.find("denied"), std::string::npos) << other.err;
  const auto none = as({"--clear-groups"});
  EXPECT_NE(none.err.find("denied"), std::string::npos) << none.err;
}

}  // namespace
}  // namespace ipc::test
