// Integration tests for tls:// (DESIGN §14): two simulated hosts on loopback, each a run directory
// with ipcd and tcpd; pongd on host B behind `tcpd --listen-tls`. Certificates are made for the
// run with the openssl command (tests/tls_certs.sh): a CA both hosts trust, a server certificate
// for localhost and 127.0.0.1, a client certificate, an expired one, one for another name, and
// one from a CA nobody trusts.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <ipc/client.hpp>
#include <ipc/message.hpp>
#include <iterator>

#include "support/harness.hpp"

namespace ipc::test {
namespace {

constexpr const char* alice_key = "00112233445566778899aabbccddeeff";
constexpr const char* mallory_key = "ffeeddccbbaa99887766554433221100";

class Tls : public ::testing::Test {
 protected:
  static std::string cert(const std::string& name) { return test_certificate(name); }

  TempDir dir;
  std::filesystem::path a = dir / "a";
  std::filesystem::path b = dir / "b";

  Process start(const std::filesystem::path& rundir, const std::string& name, std::vector<std::string> args = {}) {
    return start_daemon(name, rundir, std::move(args), dir.path());
  }
  // Host B: ipcd with `rules`, tcpd on a free TLS port (and a free plain one) with the server
  // certificate `server` (+ `extra` flags), pongd.
  ServingHost start_b(std::vector<std::string> rules, std::vector<std::string> extra = {}, const std::string& server = "server") {
    std::vector<std::string> args{"--listen-tls", "127.0.0.1:0",    "--listen",  "127.0.0.1:0",
                                  "--tls-cert",   cert(server + ".pem"), "--tls-key", cert(server + ".key"),
                                  "--tls-ca",     cert("ca.pem")};
    args.insert(args.end(), extra.begin(), extra.end());
    auto host = start_serving_host(b, dir.path(), std::move(rules), std::move(args));
    EXPECT_GT(host.tls_port, 0) << host.tcpd.log();
    return host;
  }
  CallingHost start_a(std::vector<std::string> extra = {}) {
    std::vector<std::string> args{"--no-listen", "--tls-ca", cert("ca.pem")};
    args.insert(args.end(), extra.begin(), extra.end());
    return start_calling_host(a, dir.path(), std::move(args));
  }
  RunResult pong(const std::string& uri, std::vector<std::string> args = {}) {
    args.insert(args.begin(), {"--rundir", a.string()});
    return run(program("pong"), args, {{"IPC_NETWORK", "pong " + uri}});
  }
  static std::string tls(int port, const std::string& user = "", const std::string& host = "127.0.0.1") {
    return "tls://" + (user.empty() ? "" : user + "@") + host + ":" + std::to_string(port) + "/pong";
  }
};

TEST_F(Tls, CarriesPongAcrossTwoHostsVerifyingTheServerByAddressAndByName) {
  auto hb = start_b({"--allow", "in", "pong", "tls:127.0.0.1"});
  auto ha = start_a();
  const auto by_address = pong(tls(hb.tls_port), {"-n", "200"});
  EXPECT_EQ(by_address.status, 0) << by_address.err << hb.tcpd.log();
  EXPECT_NE(by_address.out.find("200 round trips"), std::string::npos);
  const auto by_name = pong(tls(hb.tls_port, "", "localhost"), {"-n", "20", "-s", "1048576"});
  EXPECT_EQ(by_name.status, 0) << by_name.err;
  // Both stop cleanly (under the sanitizers a bad free at shutdown would show here).
  EXPECT_EQ(ha.tcpd.stop(), 0) << ha.tcpd.log();
  EXPECT_EQ(hb.tcpd.stop(), 0) << hb.tcpd.log();
}

TEST_F(Tls, PassesAHalfCloseThroughTls) {
  auto hb = start_b({"--allow", "in", "pong", "tls:127.0.0.1"});
  auto ha = start_a();
  ConnectOptions options;
  options.rundir = a;
  options.network = "pong " + tls(hb.tls_port);
  Client c(ipc::connect(ServiceName("pong"), options));
  // The last frame, then EOF: it travels as close_notify between the tcpd's, pongd still answers.
  const std::string frame = encode(Message::data(std::string(200000, 'h'), 3));
  write_all(c.fd(), frame);
  ASSERT_EQ(::shutdown(c.fd(), SHUT_WR), 0);
  EXPECT_EQ(read_until_eof(c.fd(), std::chrono::seconds(10)), frame);
}

TEST_F(Tls, StopsReadingAFastServiceWhenTheClientStopsReading) {
  // OpenSSL gives its record buffers back whenever a connection drains (SSL_MODE_RELEASE_BUFFERS)
  // and takes new ones when data flows again; AddressSanitizer keeps freed memory in quarantine
  // (256 MiB), which would count that churn as growth. The daemons started here keep a small one.
  const char* sanitizer = std::getenv("ASAN_OPTIONS");
  const std::string saved = sanitizer ? sanitizer : "";
  ::setenv("ASAN_OPTIONS", (saved + (saved.empty() ? "" : ":") + "quarantine_size_mb=1").c_str(), 1);
  auto hb = start_b({"--allow", "in", "pong", "tls:127.0.0.1"});
  auto ha = start_a();
  if (sanitizer)
    ::setenv("ASAN_OPTIONS", saved.c_str(), 1);
  else
    ::unsetenv("ASAN_OPTIONS");
  ConnectOptions options;
  options.rundir = a;
  options.network = "pong " + tls(hb.tls_port);
  Client c(ipc::connect(ServiceName("pong"), options));
  c.send(Message::data("warm up"));
  (void)c.receive();
  const long before_a = rss_kib(ha.tcpd.pid());
  const long before_b = rss_kib(hb.tcpd.pid());
  // 1 MiB frames, never reading the echoes, until the whole chain (both relays, TLS) is full.
  const std::string frame = encode(Message::data(std::string(1 << 20, 'x')));
  const int fd = c.fd();
  const std::size_t sent = send_until_pushed_back(fd, frame, 512u << 20, std::chrono::seconds(10));
  EXPECT_LT(sent, 512u << 20) << "nothing pushed back";
  const long grown_a = rss_kib(ha.tcpd.pid()) - before_a;
  const long grown_b = rss_kib(hb.tcpd.pid()) - before_b;
  // A chunk per direction and OpenSSL's record buffers per connection; 8 MiB is generous.
  EXPECT_LT(grown_a, 8 * 1024) << "A's tcpd grew " << grown_a << " KiB after " << (sent >> 20) << " MiB";
  EXPECT_LT(grown_b, 8 * 1024) << "B's tcpd grew " << grown_b << " KiB after " << (sent >> 20) << " MiB";
  // And once the client reads again, every whole frame it sent comes back intact (the last one,
  // cut short, pongd still waits for).
  const std::size_t expected = sent - sent % frame.size();
  std::size_t matched = 0;
  std::string buffer(1 << 16, '\0');
  const auto read_deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  bool intact = true;
  while (intact && matched < expected && std::chrono::steady_clock::now() < read_deadline) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 1000) <= 0) continue;
    const ssize_t n = ::read(fd, buffer.data(), std::min(buffer.size(), expected - matched));
    if (n <= 0) break;
    for (std::size_t i = 0; intact && i < static_cast<std::size_t>(n); ++i, ++matched)
      intact = buffer[i] == frame[matched % frame.size()];
  }
  EXPECT_EQ(matched, expected) << "of " << (expected >> 20) << " MiB sent, " << matched << " bytes came back intact";
  EXPECT_TRUE(ha.tcpd.running());
  EXPECT_TRUE(hb.tcpd.running());
}

TEST_F(Tls, KeepsThePayloadOffTheWireWhereTcpShowsIt) {
  if (::geteuid() != 0 || ::access("/usr/bin/tcpdump", X_OK) != 0) GTEST_SKIP() << "needs root and tcpdump";
  auto hb = start_b({"--allow", "in", "pong", "tls:127.0.0.1", "--allow", "in", "pong", "tcp:127.0.0.1"});
  auto ha = start_a();
  const std::string secret = "attack-at-dawn-7f3a9c";
  auto capture = [&](int port, const std::string& uri) {
    const auto file = dir / ("capture-" + std::to_string(port) + ".pcap");
    SpawnOptions options;
    options.wait_ready = false;
    Process tcpdump("/usr/bin/tcpdump", {"-i", "lo", "--immediate-mode", "-U", "-n", "-Z", "root", "-w", file.string(),
                                         "tcp port " + std::to_string(port)},
                    dir.path(), options);
    // tcpdump says "listening on lo" once its capture is open. --immediate-mode: without it the
    // kernel hands packets over in blocks, and those of a short run never arrive before the stop.
    EXPECT_TRUE(wait_until([&] { return tcpdump.log().find("listening on") != std::string::npos; }, 10s)) << tcpdump.log();
    const auto r = pong(uri, {"pong", secret, "-n", "3"});
    EXPECT_EQ(r.status, 0) << r.err;
    tcpdump.stop();
    std::ifstream in(file, std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_GT(bytes.size(), 24u) << "an empty capture proves nothing";
    return bytes;
  };
  // The control: over tcp:// the payload is there in clear, so the capture does see it.
  EXPECT_NE(capture(hb.port, "tcp://127.0.0.1:" + std::to_string(hb.port) + "/pong").find(secret), std::string::npos);
  const std::string over_tls = capture(hb.tls_port, tls(hb.tls_port));
  EXPECT_EQ(over_tls.find(secret), std::string::npos);
  EXPECT_EQ(over_tls.find("\"service\""), std::string::npos) << "the remote handshake travelled in clear";
}

TEST_F(Tls, RefusesAServerFromAnUntrustedCaAnExpiredOneAndOneForAnotherName) {
  const std::vector<std::pair<std::string, std::string>> cases{
      {"rogue", "certificate verification failed: unable to get local issuer certificate"},
      {"expired", "certificate verification failed: certificate has expired"},
      {"wrongname", "certificate verification failed: IP address mismatch"},
  };
  auto ha = start_a();
  for (const auto& [server, reason] : cases) {
    auto hb = start_b({"--allow", "in", "pong", "*"}, {}, server);
    const auto r = pong(tls(hb.tls_port));
    EXPECT_EQ(r.status, 1) << server;
    EXPECT_NE(r.err.find("auth-failed: 127.0.0.1:" + std::to_string(hb.tls_port) + ": TLS handshake failed: " + reason),
              std::string::npos)
        << server << ": " << r.err;
    // Both daemons say so in their logs: A with the reason, B that the handshake failed.
    EXPECT_NE(ha.tcpd.log().find(reason), std::string::npos) << ha.tcpd.log();
    EXPECT_TRUE(wait_until([&] { return hb.tcpd.log().find("auth-failed: TLS handshake failed") != std::string::npos; }))
        << hb.tcpd.log();
  }
  // By name, the wrong certificate is a host name mismatch.
  auto hb = start_b({"--allow", "in", "pong", "*"}, {}, "wrongname");
  const auto r = pong(tls(hb.tls_port, "", "localhost"));
  EXPECT_NE(r.err.find("auth-failed: localhost:" + std::to_string(hb.tls_port) +
                       ": TLS handshake failed: certificate verification failed: hostname mismatch"),
            std::string::npos)
      << r.err;
}

TEST_F(Tls, AuthenticatesWithAPreSharedKeyAndRefusesUnknownIdentities) {
  auto hb = start_b({"--allow", "in", "pong", "id:alice", "--deny", "in", "*", "*"},
                    {"--psk", std::string("alice:") + alice_key, "--psk", std::string("bob:") + alice_key});
  auto ha = start_a({"--psk", std::string("alice:") + alice_key, "--psk", std::string("mallory:") + mallory_key,
                     "--psk", std::string("bob:") + alice_key});
  // alice's key: accepted, and ipcd's rule sees the identity.
  const auto ok = pong(tls(hb.tls_port, "alice"), {"-n", "50"});
  EXPECT_EQ(ok.status, 0) << ok.err << hb.tcpd.log();
  EXPECT_TRUE(wait_until([&] { return hb.ipcd.log().find("(alice) allowed by rule 1: allow in pong id:alice") != std::string::npos; }))
      << hb.ipcd.log();
  // mallory: B holds no key for that identity, so the handshake fails, and B says why.
  const auto unknown = pong(tls(hb.tls_port, "mallory"));
  EXPECT_EQ(unknown.status, 1);
  EXPECT_NE(unknown.err.find("auth-failed: 127.0.0.1:" + std::to_string(hb.tls_port) + ": TLS handshake failed"),
            std::string::npos)
      << unknown.err;
  EXPECT_TRUE(wait_until([&] { return hb.tcpd.log().find("unknown pre-shared key identity 'mallory'") != std::string::npos; }))
      << hb.tcpd.log();
  // bob: known to B, authenticated, but no rule lets him in.
  const auto refused = pong(tls(hb.tls_port, "bob"));
  EXPECT_EQ(refused.status, 1);
  EXPECT_NE(refused.err.find("denied: pong refused to tls peer 127.0.0.1:"), std::string::npos) << refused.err;
  // carol: A has no key for her, so nothing is sent at all.
  const auto no_key = pong(tls(hb.tls_port, "carol"));
  EXPECT_NE(no_key.err.find("auth-failed: no pre-shared key for the identity 'carol'"), std::string::npos) << no_key.err;
  EXPECT_EQ(ha.tcpd.stop(), 0) << ha.tcpd.log();
  EXPECT_EQ(hb.tcpd.stop(), 0) << hb.tcpd.log();
}

TEST_F(Tls, TakesPreSharedKeysFromAFileOnlyItsOwnerCanRead) {
  const auto keys = [&](const std::string& name, const std::string& text, unsigned mode) {
    const auto file = dir / name;
    std::ofstream(file) << text;
    std::filesystem::permissions(file, static_cast<std::filesystem::perms>(mode));
    return file.string();
  };
  const auto b_keys = keys("b.psk", "# who may call B\nalice:" + std::string(alice_key) + "\n", 0600);
  const auto a_keys = keys("a.psk", "alice:" + std::string(alice_key) + "\n", 0400);
  auto hb = start_b({"--allow", "in", "pong", "id:alice", "--deny", "in", "*", "*"}, {"--psk-file", b_keys});
  auto ha = start_a({"--psk-file", a_keys});
  const auto ok = pong(tls(hb.tls_port, "alice"), {"-n", "20"});
  EXPECT_EQ(ok.status, 0) << ok.err << hb.tcpd.log();
  // The key is in no process's command line.
  for (const Process* p : {&ha.tcpd, &hb.tcpd}) {
    std::ifstream in("/proc/" + std::to_string(p->pid()) + "/cmdline");
    const std::string cmdline((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_NE(cmdline.find("--psk-file"), std::string::npos);
    EXPECT_EQ(cmdline.find(alice_key), std::string::npos);
  }
  // A file others may read is refused at start, naming it and its mode; so is a bad line, by number.
  const auto open = keys("open.psk", "alice:" + std::string(alice_key) + "\n", 0644);
  const auto r = run(program("tcpd"), {"--rundir", (dir / "c").string(), "--psk-file", open});
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("--psk-file: " + open + ": permissions 0644 are too open"), std::string::npos) << r.err;
  const auto bad = keys("bad.psk", "alice:" + std::string(alice_key) + "\n\nbob:00\n", 0600);
  const auto r2 = run(program("tcpd"), {"--rundir", (dir / "c").string(), "--psk-file", bad});
  EXPECT_EQ(r2.status, 2);
  EXPECT_NE(r2.err.find("--psk-file: " + bad + ":3: the key of 'bob' has 1 bytes"), std::string::npos) << r2.err;
  EXPECT_EQ(r2.err.find(alice_key), std::string::npos) << r2.err;
  // The same identity in the file and in --psk is given twice.
  const auto r3 = run(program("tcpd"), {"--rundir", (dir / "c").string(), "--psk", "alice:" + std::string(mallory_key),
                                        "--psk-file", b_keys});
  EXPECT_EQ(r3.status, 2);
  EXPECT_NE(r3.err.find("the identity 'alice' is given twice"), std::string::npos) << r3.err;
}

TEST_F(Tls, SaysWhenAPortSpeaksTheOtherProtocolOrWantsAKey) {
  auto hb = start_b({"--allow", "in", "pong", "*"});
  auto ha = start_a();
  // tls:// to the plain port, tcp:// to the TLS port: each says which the port speaks.
  const auto to_plain = pong(tls(hb.port));
  EXPECT_EQ(to_plain.status, 1);
  EXPECT_NE(to_plain.err.find("refused: 127.0.0.1:" + std::to_string(hb.port) + " does not speak TLS"), std::string::npos)
      << to_plain.err;
  EXPECT_NE(to_plain.err.find("a plain tcpd port wants tcp://127.0.0.1:" + std::to_string(hb.port) + "/pong"),
            std::string::npos) << to_plain.err;
  const auto to_tls = run(program("pong"), {"--rundir", a.string()},
                          {{"IPC_NETWORK", "pong tcp://127.0.0.1:" + std::to_string(hb.tls_port) + "/pong"}});
  EXPECT_EQ(to_tls.status, 1);
  EXPECT_NE(to_tls.err.find("refused: 127.0.0.1:" + std::to_string(hb.tls_port) +
                            " closed the connection without answering the remote handshake"),
            std::string::npos) << to_tls.err;
  EXPECT_NE(to_tls.err.find("(a TLS port wants tls://)"), std::string::npos) << to_tls.err;
  // A port that takes pre-shared keys only, called without one: it wants a key.
  const auto c = dir / "c";
  auto psk_only = start(c, "tcpd", {"--listen-tls", "127.0.0.1:0", "--no-handoff", "--psk", std::string("alice:") + alice_key});
  const int port = logged_port(psk_only, "listening for TLS on");
  ASSERT_GT(port, 0) << psk_only.log();
  const auto no_key = pong(tls(port));
  EXPECT_EQ(no_key.status, 1);
  EXPECT_NE(no_key.err.find("auth-failed: 127.0.0.1:" + std::to_string(port) + ": TLS handshake failed"), std::string::npos)
      << no_key.err;
  EXPECT_NE(no_key.err.find("the server wants a pre-shared key (tls://ID@127.0.0.1:" + std::to_string(port) + "/pong"),
            std::string::npos) << no_key.err;
  // And every one of them leaves the daemons serving.
  const auto ok = pong(tls(hb.tls_port), {"-n", "5"});
  EXPECT_EQ(ok.status, 0) << ok.err;
  EXPECT_EQ(ha.tcpd.stop(), 0) << ha.tcpd.log();
  EXPECT_EQ(hb.tcpd.stop(), 0) << hb.tcpd.log();
}

TEST_F(Tls, APreSharedKeyIdentityNeverPassesForACertificateName) {
  // A rule for the host name of a certificate must not let in whoever holds a key named like it.
  auto hb = start_b({"--allow", "in", "pong", "tls:client.example", "--deny", "in", "*", "*"},
                    {"--psk", std::string("client.example:") + alice_key});
  auto ha = start_a({"--psk", std::string("client.example:") + alice_key});
  const auto r = pong(tls(hb.tls_port, "client.example"));
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("denied"), std::string::npos) << r.err;
}

TEST_F(Tls, TakesTheVerifiedClientCertificateAsTheIdentity) {
  auto hb = start_b({"--allow", "in", "pong", "id:client.example", "--deny", "in", "*", "*"});
  {
    auto ha = start_a({"--tls-cert", cert("client.pem"), "--tls-key", cert("client.key")});
    const auto r = pong(tls(hb.tls_port));
    EXPECT_EQ(r.status, 0) << r.err << hb.tcpd.log();
    EXPECT_TRUE(wait_until([&] { return hb.ipcd.log().find("(client.example) allowed") != std::string::npos; }))
        << hb.ipcd.log();
  }
  // Without a client certificate there is no identity, and the rules say no.
  auto ha = start_a();
  const auto r = pong(tls(hb.tls_port));
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("denied"), std::string::npos) << r.err;
}

TEST_F(Tls, RefusesAClientCertificateFromAnUntrustedCa) {
  auto hb = start_b({"--allow", "in", "pong", "*"});
  auto ha = start_a({"--tls-cert", cert("rogue.pem"), "--tls-key", cert("rogue.key")});
  const auto r = pong(tls(hb.tls_port));
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("auth-failed: 127.0.0.1:" + std::to_string(hb.tls_port) + ": TLS: tlsv1 alert unknown ca"),
            std::string::npos)
      << r.err;
  EXPECT_TRUE(wait_until([&] {
    return hb.tcpd.log().find("auth-failed: TLS handshake failed: certificate verification failed") != std::string::npos;
  })) << hb.tcpd.log();
}

TEST_F(Tls, ChecksPasswordsAgainstTheUsersFile) {
  const auto hashed = run(program("tcpd"), {"--hash-password", "carol"}, {}, 30s);
  ASSERT_EQ(hashed.status, 2) << "no password on stdin must be refused: " << hashed.out;
  const auto users = dir / "users";
  {
    const auto line = run("/bin/sh", {"-c", "printf 'open sesame\\n' | " + program("tcpd").string() + " --hash-password carol"});
    ASSERT_EQ(line.status, 0) << line.err;
    EXPECT_EQ(line.out.rfind("carol:", 0), 0u) << line.out;
    std::ofstream(users) << "# users of host B\n" << line.out;
  }
  auto hb = start_b({"--allow", "in", "pong", "id:carol", "--deny", "in", "*", "*"}, {"--users", users.string()});
  auto ha = start_a();
  const auto right = pong("tls://carol:open%20sesame@127.0.0.1:" + std::to_string(hb.tls_port) + "/pong", {"-n", "20"});
  EXPECT_EQ(right.status, 0) << right.err << hb.tcpd.log();
  for (const std::string wrong : {"carol:open%20sesam", "dave:open%20sesame"}) {
    const auto r = pong("tls://" + wrong + "@127.0.0.1:" + std::to_string(hb.tls_port) + "/pong");
    EXPECT_EQ(r.status, 1) << wrong;
    EXPECT_NE(r.err.find("auth-failed: wrong user name or password"), std::string::npos) << wrong << ": " << r.err;
  }
  EXPECT_NE(hb.tcpd.log().find("auth-failed: wrong user name or password (user 'dave')"), std::string::npos)
      << hb.tcpd.log();
}

TEST_F(Tls, RefusesAPasswordOverPlainTcpBeforeAnyConnection) {
  auto hb = start_b({"--allow", "in", "pong", "*"});
  auto ha = start_a();
  const auto r = pong("tcp://carol:secret@127.0.0.1:" + std::to_string(hb.port) + "/pong");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("bad-request: a password is never sent over plain tcp://"), std::string::npos) << r.err;
  EXPECT_EQ(hb.tcpd.log().find("inbound from"), std::string::npos) << "B was contacted: " << hb.tcpd.log();
}

TEST_F(Tls, DropsAPeerStalledInTheTlsHandshakeAtTheDeadlineWhileServingOthers) {
  auto hb = start_b({"--allow", "in", "pong", "tls:127.0.0.1"}, {"--handshake-timeout", "1"});
  auto ha = start_a();
  // The first bytes of a ClientHello record, then nothing.
  auto stalled = tcp_connect(hb.tls_port);
  write_all(stalled.get(), std::string("\x16\x03\x01\x02\x00\x01", 6));
  auto silent = tcp_connect(hb.tls_port);
  // Others are served meanwhile...
  EXPECT_EQ(pong(tls(hb.tls_port), {"-n", "10"}).status, 0);
  // ...and the stalled ones are dropped at the deadline, not left open.
  const auto started = std::chrono::steady_clock::now();
  EXPECT_TRUE(closed_within(stalled.get(), 10s));
  EXPECT_TRUE(closed_within(silent.get(), 10s));
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(5));
  EXPECT_NE(hb.tcpd.log().find("timeout: the TLS handshake did not complete within 1 s"), std::string::npos)
      << hb.tcpd.log();
  // Plain garbage on the TLS port is no TLS: dropped, and tcpd goes on.
  auto garbage = tcp_connect(hb.tls_port);
  write_all(garbage.get(), encode(Message::data("hello")));
  EXPECT_TRUE(closed_within(garbage.get(), 10s));
  EXPECT_EQ(pong(tls(hb.tls_port)).status, 0);
  EXPECT_TRUE(hb.tcpd.running());
}

TEST_F(Tls, SpeaksOnlyTls12AndNewerWithModernSuitesToAStockClient) {
  auto hb = start_b({"--allow", "in", "pong", "*"});
  // openssl s_client as the outside peer; SECLEVEL=0 lets it offer what tcpd must refuse.
  auto s_client = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {"s_client", "-connect", "127.0.0.1:" + std::to_string(hb.tls_port), "-CAfile", cert("ca.pem")});
    return run("/usr/bin/openssl", args, {}, 20s);
  };
  // The control: TLS 1.3, and TLS 1.2 with ECDHE and AES-GCM, are spoken.
  const auto tls13 = s_client({"-tls1_3"});
  EXPECT_NE(tls13.out.find("TLSv1.3"), std::string::npos) << tls13.out << tls13.err;
  EXPECT_NE(tls13.out.find("Verify return code: 0 (ok)"), std::string::npos) << tls13.out;
  const auto tls12 = s_client({"-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-GCM-SHA256"});
  EXPECT_NE(tls12.out.find("Cipher is ECDHE-ECDSA-AES128-GCM-SHA256"), std::string::npos) << tls12.out << tls12.err;
  // TLS 1.1, and TLS 1.2 without forward secrecy or with CBC, are not.
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0"},
           {"-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-SHA:AES128-GCM-SHA256:AES128-SHA@SECLEVEL=0"}}) {
    const auto r = s_client(args);
    EXPECT_NE(r.status, 0) << args[0] << ": " << r.out;
    EXPECT_NE(r.out.find("Cipher is (NONE)"), std::string::npos) << args[0] << ": " << r.out << r.err;
  }
  EXPECT_TRUE(hb.tcpd.running());
}

TEST_F(Tls, RefusesABadUsersFileAtStartNamingTheLine) {
  const auto users = dir / "users";
  std::ofstream(users) << "# comment\nalice:0011223344556677:" << std::string(64, 'a') << "\nbob:zz:00\n";
  const auto r = run(program("tcpd"), {"--rundir", a.string(), "--users", users.string()});
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find(users.string() + ":3: the salt must be"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace ipc::test
