// Integration tests for wss:// (DESIGN §11, §14): websocketd with --tls-cert/--tls-key serves
// WebSockets over TLS to a stock client (Debian's python3-websockets with an ssl context), and
// opens wss:// for ipcd verifying the server (--tls-ca and the URI's host). Certificates are made
// for the run with the openssl command (tests/tls_certs.sh).
#include <gtest/gtest.h>
#include <poll.h>
#include <unistd.h>

#include "support/harness.hpp"

namespace ipc::test {
namespace {

const std::filesystem::path python = "/usr/bin/python3";  // where python3-websockets is installed

// Sends MESSAGE over wss://127.0.0.1:PORT/pong (subprotocol ipc.text) trusting CA, prints the echo.
constexpr const char* wss_client = R"(
import asyncio, ssl, sys, websockets
async def main(port, ca, message):
    context = ssl.create_default_context(cafile=ca)
    async with websockets.connect(f"wss://127.0.0.1:{port}/pong", ssl=context, subprotocols=["ipc.text"],
                                  open_timeout=10) as ws:
        await ws.send(message)
        print(await asyncio.wait_for(ws.recv(), 10))
asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3]))
)";

class Wss : public ::testing::Test {
 protected:
  static std::string cert(const std::string& name) { return test_certificate(name); }

  TempDir dir;
  std::filesystem::path a = dir / "a";
  std::filesystem::path b = dir / "b";

  // Host B: ipcd letting wss peers from 127.0.0.1 reach pong, pongd, websocketd on a free TLS port.
  struct HostB {
    Process ipcd, pongd, websocketd;
    int port;
  };
  HostB start_b(const std::string& server = "server", std::vector<std::string> extra = {}) {
    auto ipcd = start_daemon("ipcd", b, {"--allow", "in", "pong", "wss:127.0.0.1"}, dir.path());
    auto pongd = start_daemon("pongd", b, {}, dir.path());
    std::vector<std::string> args{"--listen", "127.0.0.1:0", "--tls-cert", cert(server + ".pem"), "--tls-key",
                                  cert(server + ".key")};
    args.insert(args.end(), extra.begin(), extra.end());
    auto websocketd = start_daemon("websocketd", b, args, dir.path());
    const int port = logged_port(websocketd, "listening for TLS on");
    EXPECT_GT(port, 0) << websocketd.log();
    return {std::move(ipcd), std::move(pongd), std::move(websocketd), port};
  }
  struct HostA {
    Process ipcd, websocketd;
  };
  HostA start_a() {
    auto ipcd = start_daemon("ipcd", a, {}, dir.path());
    auto websocketd = start_daemon("websocketd", a, {"--no-listen", "--tls-ca", cert("ca.pem")}, dir.path());
    return {std::move(ipcd), std::move(websocketd)};
  }
  RunResult pong(const std::string& uri, std::vector<std::string> args = {}) {
    args.insert(args.begin(), {"--rundir", a.string()});
    return run(program("pong"), args, {{"IPC_NETWORK", "pong " + uri}});
  }
  static std::string wss(int port, const std::string& host = "127.0.0.1") {
    return "wss://" + host + ":" + std::to_string(port) + "/pong";
  }
};

TEST_F(Wss, ServesAStockClientOverTls) {
  auto hb = start_b();
  const auto r = run(python, {"-c", wss_client, std::to_string(hb.port), cert("ca.pem"), "hello over wss"});
  EXPECT_EQ(r.status, 0) << r.err << hb.websocketd.log();
  EXPECT_EQ(r.out, "hello over wss\n");
  EXPECT_NE(hb.ipcd.log().find("inbound pong from wss peer 127.0.0.1:"), std::string::npos) << hb.ipcd.log();
}

TEST_F(Wss, CarriesPongAcrossTwoHostsVerifyingTheServer) {
  auto hb = start_b();
  auto ha = start_a();
  const auto by_address = pong(wss(hb.port), {"-n", "100"});
  EXPECT_EQ(by_address.status, 0) << by_address.err << ha.websocketd.log();
  EXPECT_NE(by_address.out.find("100 round trips"), std::string::npos);
  const auto by_name = pong(wss(hb.port, "localhost"), {"-n", "5", "-s", "262144"});
  EXPECT_EQ(by_name.status, 0) << by_name.err;
  EXPECT_EQ(ha.websocketd.stop(), 0) << ha.websocketd.log();
  EXPECT_EQ(hb.websocketd.stop(), 0) << hb.websocketd.log();
}

TEST_F(Wss, RefusesAServerFromAnUntrustedCaAnExpiredOneAndOneForAnotherName) {
  const std::vector<std::pair<std::string, std::string>> cases{
      {"rogue", "certificate verification failed: unable to get local issuer certificate"},
      {"expired", "certificate verification failed: certificate has expired"},
      {"wrongname", "certificate verification failed: IP address mismatch"},
  };
  auto ha = start_a();
  for (const auto& [server, reason] : cases) {
    auto hb = start_b(server);
    const auto r = pong(wss(hb.port));
    EXPECT_EQ(r.status, 1) << server;
    EXPECT_NE(r.err.find("auth-failed: 127.0.0.1:" + std::to_string(hb.port) + ": TLS handshake failed: " + reason),
              std::string::npos)
        << server << ": " << r.err;
    EXPECT_NE(ha.websocketd.log().find(reason), std::string::npos) << ha.websocketd.log();
    EXPECT_TRUE(wait_until([&] { return hb.websocketd.log().find("TLS handshake failed") != std::string::npos; }))
        << hb.websocketd.log();
  }
}

TEST_F(Wss, DropsAClientStalledInTheTlsHandshakeWhileServingOthers) {
  auto hb = start_b("server", {"--timeout", "1"});
  auto stalled = tcp_connect(hb.port);
  write_all(stalled.get(), std::string("\x16\x03\x01\x02\x00\x01", 6));  // a ClientHello begun, never ended
  auto plain = tcp_connect(hb.port);
  write_all(plain.get(), "GET / HTTP/1.1\r\nHost: x\r\n\r\n");  // plain HTTP on the TLS port
  const auto served = run(python, {"-c", wss_client, std::to_string(hb.port), cert("ca.pem"), "meanwhile"});
  EXPECT_EQ(served.out, "meanwhile\n") << served.err;
  const auto started = std::chrono::steady_clock::now();
  EXPECT_TRUE(closed_within(stalled.get(), 10s));
  EXPECT_TRUE(closed_within(plain.get(), 10s));
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(5));
  EXPECT_TRUE(hb.websocketd.running());
}

TEST_F(Wss, BadTlsFlagsExitWithStatusTwoAndSayWhy) {
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases{
      {{"--tls-cert", cert("server.pem")}, "--tls-cert and --tls-key go together"},
      {{"--tls-cert", "/nonexistent.pem", "--tls-key", "/nonexistent.key"}, "cannot load the certificate /nonexistent.pem"},
      {{"--tls-cert", cert("server.pem"), "--tls-key", cert("client.key")}, "cannot load the private key"},
      {{"--tls-ca", "/nonexistent.pem"}, "cannot load the CA file /nonexistent.pem"},
      {{"--no-listen", "--tls-cert", cert("server.pem"), "--tls-key", cert("server.key")}, "there is no listener"},
  };
  for (const auto& [args, says] : cases) {
    auto with_rundir = args;
    with_rundir.insert(with_rundir.begin(), {"--rundir", a.string(), "--listen", "127.0.0.1:0"});
    if (args[0] == "--no-listen") with_rundir.erase(with_rundir.begin() + 2, with_rundir.begin() + 4);
    const auto r = run(program("websocketd"), with_rundir);
    EXPECT_EQ(r.status, 2) << args[0] << ": " << r.err;
    EXPECT_NE(r.err.find(says), std::string::npos) << args[0] << ": " << r.err;
  }
}

}  // namespace
}  // namespace ipc::test
