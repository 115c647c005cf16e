// Integration tests: the real ipcd (with pongd, pong, ipcctl) in a temporary run directory.
// Protocol daemons are played by the test itself where a test needs to watch CONNECT.
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <fstream>
#include <ipc/broker.hpp>
#include <ipc/client.hpp>
#include <ipc/error.hpp>
#include <ipc/fd.hpp>
#include <ipc/listener.hpp>
#include <nlohmann/json.hpp>
#include <atomic>
#include <random>
#include <sstream>
#include <thread>

#include "support/harness.hpp"

namespace ipc::test {
namespace {

class Ipcd : public ::testing::Test {
 protected:
  TempDir dir;
  std::filesystem::path rundir = dir / "run";

  Process start(const std::string& name, std::vector<std::string> args = {}) {
    return start_daemon(name, rundir, std::move(args), dir.path());
  }
  RunResult pong(std::vector<std::string> args, const std::string& network) {
    args.insert(args.begin(), {"--rundir", rundir.string()});
    return run(program("pong"), args, {{"IPC_NETWORK", network}});
  }
  RunResult ipcctl(std::vector<std::string> args, const std::map<std::string, std::string>& env = {}) {
    args.insert(args.begin(), {"--rundir", rundir.string()});
    return run(program("ipcctl"), args, env);
  }
  nlohmann::json status() {
    const auto r = ipcctl({"status"});
    EXPECT_EQ(r.status, 0) << r.err;
    return nlohmann::json::parse(r.out);
  }
  // One raw request on a broker socket: the answer and the fd that came with it.
  FrameWithFd request(const Message& message, const char* socket = "ipc") {
    auto fd = connect_raw(rundir / socket);
    send_frame_with_fd(fd.get(), message, -1);
    return recv_frame_with_fd(fd.get(), default_max_payload, 15000);
  }
  FrameWithFd lookup(const std::string& payload) { return request(Message{MessageType::lookup, 0, payload}); }
};

// The echo check through an fd ipcd handed over.
void expect_echo(int fd, const std::string& text = "through ipcd") {
  Client client{UniqueFd(::dup(fd))};
  client.send(Message::data(text, 42));
  const auto reply = client.receive();
  EXPECT_EQ(reply.payload, text);
  EXPECT_EQ(reply.user_type, 42);
}

void expect_error(const FrameWithFd& answer, const std::string& code) {
  EXPECT_EQ(answer.message.type, MessageType::error) << answer.message.payload;
  EXPECT_EQ(answer.message.payload.rfind(code + ": ", 0), 0u) << answer.message.payload;
  EXPECT_FALSE(answer.fd.valid());
}

// A stand-in protocol daemon on RUNDIR/NAME: takes one CONNECT, records it, answers with
// `reply` (unless empty: then it never answers), and then echoes like a remote pongd.
class FakeProtocolDaemon {
 public:
  // With `addresses` (a JSON body), it answers a CONNECT that asks for the address check with
  // DATA `addresses` first and records ipcd's answer (the allowed ones or ERROR, which ends it).
  FakeProtocolDaemon(const std::filesystem::path& rundir, const std::string& name, std::string reply,
                     std::string extra = "", std::string addresses = "")
      : socket_(ListeningSocket::bind(rundir, ServiceName(name))) {
    thread_ = std::thread([this, reply = std::move(reply), extra = std::move(extra), addresses = std::move(addresses)] {
      sockaddr_un peer{};
      socklen_t len = sizeof peer;
      // The listening socket is non-blocking: wait for the connection.
      pollfd p{socket_.fd(), POLLIN, 0};
      if (::poll(&p, 1, 20000) <= 0) return;
      UniqueFd conn(::accept4(socket_.fd(), reinterpret_cast<sockaddr*>(&peer), &len, SOCK_CLOEXEC));
      if (!conn) return;
      try {
        auto request = recv_frame_with_fd(conn.get(), default_max_payload, 20000);
        connect_ = request.message;
        if (!addresses.empty()) {
          send_frame_with_fd(conn.get(), Message::data(addresses), -1);
          check_answer_ = recv_frame_with_fd(conn.get(), default_max_payload, 20000).message;
          if (check_answer_->type == MessageType::error) return;
        }
        if (reply.empty()) {
          (void)read_until_eof(conn.get(), std::chrono::seconds(20));  // never answers
          return;
        }
        Message answer = reply == "ok" ? Message::data("ok") : Message::error(reply);
        // The answer and the first bytes of the data stream in one write: ipcd must read only its frame.
        std::string bytes = encode(answer) + extra;
        write_all(conn.get(), bytes);
        if (reply != "ok") return;
        Client echo{std::move(conn)};
        for (;;) echo.send(echo.receive());
      } catch (const std::exception&) {
      }
    });
  }
  ~FakeProtocolDaemon() { join(); }
  // Waits for it to be done (what it recorded may be read after this).
  void join() {
    ::shutdown(socket_.fd(), SHUT_RDWR);
    if (thread_.joinable()) thread_.join();
  }
  std::optional<Message> connect_;
  std::optional<Message> check_answer_;

 private:
  ListeningSocket socket_;
  std::thread thread_;
};

TEST_F(Ipcd, PassesTheServiceFdToTheClient) {
  auto ipcd = start("ipcd");
  auto pongd = start("pongd");
  const auto answer = lookup("pong;");
  EXPECT_EQ(answer.message, Message::data("ok"));
  ASSERT_TRUE(answer.fd.valid());
  expect_echo(answer.fd.get());
  const auto r = pong({"-n", "100"}, "pong unix:///pong");
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_GE(status()["counters"]["lookups"]["ok"].get<int>(), 2);
}

TEST_F(Ipcd, FollowsARedirectionToAnotherLocalService) {
  auto ipcd = start("ipcd", {"--redirect", "pong", "pong2"});
  auto pongd = start("pongd", {"--name", "pong2"});
  const auto r = pong({"-n", "10"}, "pong unix:pong");
  EXPECT_EQ(r.status, 0) << r.err;
  const auto plan = nlohmann::json::parse(ipcctl({"lookup", "pong"}).out);
  EXPECT_EQ(plan["destination"], "unix:///pong2");
  EXPECT_EQ(plan["hops"], nlohmann::json::array({"pong", "pong2"}));
}

TEST_F(Ipcd, RefusesARedirectionLoop) {
  auto ipcd = start("ipcd", {"--redirect", "a", "b", "--redirect", "b", "a"});
  expect_error(lookup("a;"), "loop");
  const auto r = pong({}, "pong unix:a ; a unix:a");
  EXPECT_EQ(r.status, 1);
}

TEST_F(Ipcd, GivesLoopBeyondEightRedirections) {
  std::vector<std::string> args;
  for (int i = 0; i < 9; ++i) args.insert(args.end(), {"--redirect", "s" + std::to_string(i), "s" + std::to_string(i + 1)});
  auto ipcd = start("ipcd", args);
  expect_error(lookup("s0;"), "loop");
  expect_error(lookup("s1;"), "not-found");  // 8 hops: allowed, and nobody serves s9
}

TEST_F(Ipcd, AppliesOutRulesWithTheClientsCredentials) {
  const std::string me = "uid:" + std::to_string(::geteuid());
  auto ipcd = start("ipcd", {"--deny", "out", "pong", me, "--allow", "out", "*", "uid:99999"});
  auto pongd = start("pongd");
  auto pongd2 = start("pongd", {"--name", "pong2"});
  const auto denied = lookup("pong;");
  expect_error(denied, "denied");
  EXPECT_NE(denied.message.payload.find("rule 1: deny out pong " + me), std::string::npos) << denied.message.payload;
  const auto r = pong({}, "pong unix:pong");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("denied"), std::string::npos) << r.err;
  expect_echo(lookup("pong2;").fd.get());
  EXPECT_EQ(status()["counters"]["lookups"]["denied"], 2);
}

TEST_F(Ipcd, OutRulesOnAServiceAlsoBindAnAliasThatLeadsToIt) {
  // The client names its own alias for `secret`, locally and across hosts, even one an allow
  // rule covers: the deny on the destination's service still holds. Other services go on.
  auto ipcd = start("ipcd", {"--allow", "out", "pong", "*", "--deny", "out", "secret", "*"});
  auto pongd = start("pongd", {"--name", "secret"});
  auto pongd2 = start("pongd", {"--name", "pong2"});
  FakeProtocolDaemon tcpd(rundir, "tcp", "ok", "");
  for (const std::string routes : {"x unix:secret", "x tcp://127.0.0.1:9/secret"}) {
    const auto denied = lookup("x;" + routes);
    expect_error(denied, "denied");
    EXPECT_NE(denied.message.payload.find("rule 2: deny out secret *"), std::string::npos) << denied.message.payload;
  }
  expect_error(lookup("pong;pong unix:secret"), "denied");
  EXPECT_FALSE(tcpd.connect_) << "the tcp daemon was asked to connect to a denied service";
  const auto r = pong({}, "pong unix:secret");  // pong asks for pong, which rule 1 allows
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("denied"), std::string::npos) << r.err;
  expect_echo(lookup("y;y unix:pong2").fd.get());
  const auto plan = nlohmann::json::parse(ipcctl({"lookup", "x"}, {{"IPC_NETWORK", "x unix:secret"}}).out);
  EXPECT_EQ(plan["decision"], "deny") << plan.dump();
}

TEST_F(Ipcd, TakesOutRulesOnAddressesForEachAddressAHostNameResolvesTo) {
  // The protocol daemon resolves (ipcd has no network); ipcd says which addresses may be reached.
  auto ipcd = start("ipcd", {"--deny", "out", "*", "tcp:192.0.2.0/24"});
  const std::string routes = "pong tcp://far.example:9000/pong";
  {
    FakeProtocolDaemon tcpd(rundir, "tcp", "ok", "", R"({"addresses":["192.0.2.1","127.0.0.1"]})");
    const auto answer = lookup("pong;" + routes);
    ASSERT_EQ(answer.message, Message::data("ok")) << answer.message.payload;
    expect_echo(answer.fd.get());
    ASSERT_TRUE(tcpd.connect_);
    EXPECT_EQ(nlohmann::json::parse(tcpd.connect_->payload)["resolve"], "tcp://far.example:9000/pong");
    ASSERT_TRUE(tcpd.check_answer_);
    EXPECT_EQ(*tcpd.check_answer_, Message::data(R"({"allowed":["127.0.0.1"]})"));
  }
  {
    FakeProtocolDaemon tcpd(rundir, "tcp", "ok", "", R"({"addresses":["192.0.2.1","192.0.2.2"]})");
    const auto denied = lookup("pong;" + routes);
    expect_error(denied, "denied");
    EXPECT_EQ(denied.message.payload,
              "denied: pong -> tcp://far.example:9000/pong refused by rule 1: deny out * tcp:192.0.2.0/24 "
              "(far.example is 192.0.2.1, 192.0.2.2)");
    tcpd.join();  // it ends on ipcd's ERROR
    ASSERT_TRUE(tcpd.check_answer_);
    EXPECT_EQ(tcpd.check_answer_->type, MessageType::error);
    EXPECT_EQ(tcpd.check_answer_->payload, denied.message.payload);
  }
  // An address in the URI is checked as it stands: denied before the daemon is asked anything.
  {
    FakeProtocolDaemon tcpd(rundir, "tcp", "ok", "");
    expect_error(lookup("pong;pong tcp://192.0.2.7:9000/pong"), "denied");
    EXPECT_FALSE(tcpd.connect_);
  }
  // `ipcctl lookup` says the decision is taken again per address.
  const auto plan = nlohmann::json::parse(ipcctl({"lookup", "pong"}, {{"IPC_NETWORK", routes}}).out);
  EXPECT_NE(plan.value("addresses", "").find("taken again for each address far.example resolves to"),
            std::string::npos) << plan.dump();
  EXPECT_EQ(status()["counters"]["lookups"]["denied"], 2);
}

TEST_F(Ipcd, AsksNoAddressCheckWhenNoRuleNamesAddresses) {
  auto ipcd = start("ipcd", {"--deny", "out", "*", "tcp:*.example.org"});
  FakeProtocolDaemon tcpd(rundir, "tcp", "ok", "");
  const auto answer = lookup("pong;pong tcp://far.example:9000/pong");
  ASSERT_EQ(answer.message, Message::data("ok")) << answer.message.payload;
  ASSERT_TRUE(tcpd.connect_);
  EXPECT_FALSE(nlohmann::json::parse(tcpd.connect_->payload).contains("resolve")) << tcpd.connect_->payload;
}

TEST_F(Ipcd, RefusesAProtocolDaemonsMalformedAddressListAndServesOthers) {
  auto ipcd = start("ipcd", {"--deny", "out", "*", "tcp:10.0.0.0/8"});
  auto pongd = start("pongd");
  for (const char* addresses : {R"({"addresses":["localhost"]})", R"({"addresses":"127.0.0.1"})", "[]", "not json",
                                R"({"addresses":["::ffff:10.0.0.1"]})"}) {
    FakeProtocolDaemon tcpd(rundir, "tcp", "ok", "", addresses);
    const auto answer = lookup("pong;pong tcp://far.example:9000/pong");
    expect_error(answer, "internal");
    EXPECT_NE(answer.message.payload.find("the tcp daemon's addresses"), std::string::npos) << answer.message.payload;
  }
  expect_echo(lookup("pong;").fd.get());
}

TEST_F(Ipcd, DefaultOutDenyRefusesWhatNoRuleAllows) {
  auto ipcd = start("ipcd", {"--default-out", "deny", "--allow", "out", "pong2", "*"});
  auto pongd = start("pongd");
  auto pongd2 = start("pongd", {"--name", "pong2"});
  expect_error(lookup("pong;"), "denied");
  expect_echo(lookup("pong2;").fd.get());
}

TEST_F(Ipcd, UsesTheClientsRouteThenTheStaticRoute) {
  auto ipcd = start("ipcd", {"--route", "pong", "tcp://example.com:9000/pong"});
  auto pongd = start("pongd");
  auto plan = nlohmann::json::parse(ipcctl({"lookup", "pong"}).out);
  EXPECT_EQ(plan["destination"], "tcp://example.com:9000/pong");
  EXPECT_EQ(plan["route"], "static route");
  plan = nlohmann::json::parse(ipcctl({"lookup", "pong"}, {{"IPC_NETWORK", "pong unix:pong"}}).out);
  EXPECT_EQ(plan["destination"], "unix:///pong");
  EXPECT_EQ(plan["route"], "client IPC_NETWORK");
  EXPECT_EQ(plan["original_client"].get<std::string>().rfind("asks ipcd on ", 0), 0u) << plan.dump();
  // Without an IPC_NETWORK entry the original C client goes to the socket itself, and says so.
  plan = nlohmann::json::parse(ipcctl({"lookup", "pong"}).out);
  EXPECT_NE(plan["original_client"].get<std::string>().find("no redirection, static route or out rule applies"),
            std::string::npos) << plan.dump();
  // No tcp daemon runs: the static route cannot be served.
  expect_error(lookup("pong;"), "unsupported-scheme");
  expect_echo(lookup("pong;pong unix:pong").fd.get());
}

TEST_F(Ipcd, DelegatesToTheSchemesProtocolDaemonAndPassesItsConnection) {
  auto ipcd = start("ipcd");
  FakeProtocolDaemon tcpd(rundir, "tcp", "ok", encode(Message::data("early bytes")));
  const auto answer = lookup("pong;pong tcp://user:secret@127.0.0.1:9999/pong");
  ASSERT_EQ(answer.message, Message::data("ok")) << answer.message.payload;
  // The bytes the daemon sent right behind its "ok" reach the client, not ipcd.
  Client client{UniqueFd(::dup(answer.fd.get()))};
  EXPECT_EQ(client.receive().payload, "early bytes");
  expect_echo(answer.fd.get());
  ASSERT_TRUE(tcpd.connect_);
  EXPECT_EQ(tcpd.connect_->type, MessageType::connect);
  const auto body = nlohmann::json::parse(tcpd.connect_->payload);
  EXPECT_EQ(body["uri"], "tcp://user:secret@127.0.0.1:9999/pong");
  EXPECT_EQ(body["service"], "pong");
  EXPECT_EQ(body["client"]["uid"], ::geteuid());
  EXPECT_EQ(body["client"]["pid"], ::getpid());
  EXPECT_EQ(status()["counters"]["delegations"]["tcp"], 1);
}

TEST_F(Ipcd, PassesTheProtocolDaemonsErrorToTheClient) {
  auto ipcd = start("ipcd");
  FakeProtocolDaemon tcpd(rundir, "tcp", "refused: 127.0.0.1:9 refused the connection");
  const auto r = pong({}, "pong tcp://127.0.0.1:9/pong");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("refused: 127.0.0.1:9 refused the connection"), std::string::npos) << r.err;
}

TEST_F(Ipcd, TimesOutASlowProtocolDaemonWhileServingOthers) {
  auto ipcd = start("ipcd", {"--timeout", "2"});
  auto pongd = start("pongd");
  FakeProtocolDaemon silent(rundir, "ws", "");
  std::optional<FrameWithFd> slow;
  std::thread waiting([&] { slow = lookup("pong;pong ws://127.0.0.1:8080/pong"); });
  // While that lookup waits on the silent daemon, others are answered.
  ASSERT_TRUE(wait_until([&] { return silent.connect_.has_value(); }, std::chrono::seconds(10)));
  for (int i = 0; i < 5; ++i) expect_echo(lookup("pong;").fd.get());
  EXPECT_FALSE(slow.has_value());
  waiting.join();
  ASSERT_TRUE(slow);
  expect_error(*slow, "timeout");
}

TEST_F(Ipcd, SaysUnsupportedSchemeWhenNoProtocolDaemonRuns) {
  auto ipcd = start("ipcd");
  const auto answer = lookup("pong;pong wss://example.com/pong");
  expect_error(answer, "unsupported-scheme");
  EXPECT_NE(answer.message.payload.find("wss"), std::string::npos);
}

TEST_F(Ipcd, AnswersLegacyClientsOkFirstThenTheFd) {
  auto ipcd = start("ipcd");
  auto pongd = start("pongd");
  // What the original C libipc 0.7 client does: LOOKUP with user_type 3 on RUNDIR/network,
  // recv() into a large buffer, check the payload is 2 bytes, then recvmsg() for the fd.
  auto fd = connect_raw(rundir / "network");
  write_all(fd.get(), encode(Message{MessageType::lookup, 3, "pong;"}));
  char buffer[4096];
  const ssize_t n = ::recv(fd.get(), buffer, sizeof buffer, 0);
  ASSERT_EQ(n, 8);
  const auto header = decode_header(buffer);
  EXPECT_EQ(header.length, 2u);
  EXPECT_EQ(std::string(buffer + 6, 2), "ok");
  std::vector<UniqueFd> fds;
  char byte;
  ASSERT_EQ(recv_with_fds(fd.get(), std::span<char>(&byte, 1), fds), 1);
  ASSERT_EQ(fds.size(), 1u);
  expect_echo(fds[0].get());
}

// CPU time (user + system) a process has used, from /proc/PID/stat.
std::chrono::milliseconds cpu_time(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  std::istringstream fields(text.substr(text.rfind(')') + 2));
  std::string field;
  long utime = 0, stime = 0;
  for (int i = 3; fields >> field; ++i) {
    if (i == 14) utime = std::stol(field);
    if (i == 15) {
      stime = std::stol(field);
      break;
    }
  }
  return std::chrono::milliseconds((utime + stime) * 1000 / ::sysconf(_SC_CLK_TCK));
}

TEST_F(Ipcd, LegacyClientsThatNeverReadTheirAnswerCostLittleCpuAndTimeOut) {
  auto ipcd = start("ipcd", {"--timeout", "3"});
  auto pongd = start("pongd");
  // 300 original-client lookups whose client never reads "ok": ipcd waits for each to drain.
  std::vector<UniqueFd> stuck;
  for (int i = 0; i < 300; ++i) {
    stuck.push_back(connect_raw(rundir / "network"));
    write_all(stuck.back().get(), encode(Message{MessageType::lookup, 3, "pong;"}));
  }
  // Every one has its "ok" waiting unread: ipcd is in the wait for all of them now.
  for (const auto& fd : stuck) {
    pollfd p{fd.get(), POLLIN, 0};
    ASSERT_EQ(::poll(&p, 1, 10000), 1);
  }
  const auto cpu_before = cpu_time(ipcd.pid());
  const auto wall_before = std::chrono::steady_clock::now();
  // A well-behaved client meanwhile: served as ever.
  expect_echo(lookup("pong;").fd.get());
  // The measurement window (not a synchronisation): ipcd's CPU while it waits.
  std::this_thread::sleep_for(1500ms);
  const auto cpu = cpu_time(ipcd.pid()) - cpu_before;
  const auto wall = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - wall_before);
  // Looking every millisecond, 300 waiters kept a core busy; backed off, it is a few percent.
  EXPECT_LT(cpu.count(), wall.count() / 4) << cpu.count() << " ms of CPU in " << wall.count() << " ms";
  // Within the deadline each waiter ends: ipcd closes the connection, its "ok" still unread.
  for (const auto& fd : stuck) {
    pollfd p{fd.get(), POLLRDHUP, 0};
    ASSERT_EQ(::poll(&p, 1, 10000), 1);
    EXPECT_TRUE(p.revents & (POLLRDHUP | POLLHUP));
  }
  EXPECT_NE(ipcd.log().find("the client did not read the answer"), std::string::npos);
  expect_echo(lookup("pong;").fd.get());
}

TEST_F(Ipcd, LetsOneUidHaveOnlyMaxPerPeerRequestsInProgress) {
  ::chmod(dir.path().c_str(), 0755);  // nobody must reach the run directory
  auto ipcd = start("ipcd", {"--max-per-peer", "2", "--timeout", "5"});
  auto pongd = start("pongd");
  // Two original-client lookups of nobody's that never read their answer: both in progress.
  auto stuck = connect_as(65534, rundir / "network", 2);
  ASSERT_EQ(stuck.size(), 2u);
  for (auto& fd : stuck) write_all(fd.get(), encode(Message{MessageType::lookup, 3, "pong;"}));
  for (auto& fd : stuck) {
    pollfd p{fd.get(), POLLIN, 0};
    ASSERT_EQ(::poll(&p, 1, 10000), 1);  // its "ok" is there: ipcd waits for it to be read
  }
  // A third request of nobody's is refused at once, saying why.
  auto third = connect_as(65534, rundir / "ipc", 1);
  ASSERT_EQ(third.size(), 1u);
  const auto answer = read_until_eof(third[0].get());
  EXPECT_NE(answer.find("unavailable: uid 65534 already holds 2 connections to this service (--max-per-peer)"),
            std::string::npos) << answer;
  // Root (like the protocol daemons, asking for many) is not counted.
  for (int i = 0; i < 4; ++i) expect_echo(lookup("pong;").fd.get());
}

// A LOOKUP on a connection made as another uid (connect_as): the answer and its fd.
FrameWithFd lookup_on(int fd, const std::string& payload) {
  send_frame_with_fd(fd, Message{MessageType::lookup, 0, payload}, -1);
  return recv_frame_with_fd(fd, default_max_payload, 15000);
}

TEST_F(Ipcd, LetsOneUidHoldOnlyMaxHeldConnectionsToAServiceThroughIt) {
  ::chmod(dir.path().c_str(), 0755);  // nobody must reach the run directory
  auto ipcd = start("ipcd", {"--max-held", "2"});
  auto pongd = start("pongd");
  auto askers = connect_as(65534, rundir / "ipc", 4);
  ASSERT_EQ(askers.size(), 4u);
  std::vector<FrameWithFd> held;
  for (int i = 0; i < 2; ++i) {
    held.push_back(lookup_on(askers[i].get(), "pong;"));
    ASSERT_EQ(held.back().message, Message::data("ok")) << held.back().message.payload;
    expect_echo(held.back().fd.get());
  }
  // pongd sees ipcd's uid on all of them; ipcd knows they are nobody's, and holds the third back.
  const auto third = lookup_on(askers[2].get(), "pong;");
  expect_error(third, "unavailable");
  EXPECT_NE(third.message.payload.find(
                "uid 65534 already holds 2 connections to service pong made through ipcd (--max-held)"),
            std::string::npos)
      << third.message.payload;
  // The original client's socket counts the same.
  auto legacy = connect_as(65534, rundir / "network", 1);
  ASSERT_EQ(legacy.size(), 1u);
  write_all(legacy[0].get(), encode(Message{MessageType::lookup, 3, "pong;"}));
  EXPECT_NE(read_until_eof(legacy[0].get()).find("unavailable: uid 65534 already holds 2"), std::string::npos);
  // Other uids are not held back by nobody's count, root (the administrator, the protocol
  // daemons) is not counted at all.
  auto others = connect_as(65533, rundir / "ipc", 2);
  ASSERT_EQ(others.size(), 2u);
  std::vector<FrameWithFd> theirs;
  for (auto& fd : others) {
    theirs.push_back(lookup_on(fd.get(), "pong;"));
    expect_echo(theirs.back().fd.get());
  }
  std::vector<FrameWithFd> roots;
  for (int i = 0; i < 4; ++i) {
    roots.push_back(lookup("pong;"));
    expect_echo(roots.back().fd.get());
  }
  const auto counted = status()["held"];
  EXPECT_EQ(counted["max"], 2);
  EXPECT_EQ(counted["uids"]["65534"]["to service pong"], 2) << counted.dump();
  EXPECT_EQ(counted["uids"]["65533"]["to service pong"], 2) << counted.dump();
  EXPECT_FALSE(counted["uids"].contains("0")) << counted.dump();
  // A uid that is not trusted sees only its own counts.
  auto asking = connect_as(65533, rundir / "ipc", 1);
  ASSERT_EQ(asking.size(), 1u);
  send_frame_with_fd(asking[0].get(), Message{MessageType::status, 0, ""}, -1);
  const auto own = nlohmann::json::parse(recv_frame_with_fd(asking[0].get(), default_max_payload, 15000).message.payload);
  EXPECT_EQ(own["held"]["uids"], nlohmann::json::parse(R"({"65533": {"to service pong": 2}})")) << own["held"].dump();
  // Once nobody closes one, it may have another.
  held[0].fd.reset();
  const auto again = lookup_on(askers[3].get(), "pong;");
  ASSERT_EQ(again.message, Message::data("ok")) << again.message.payload;
  expect_echo(again.fd.get());
}

// A stand-in protocol daemon that hands over a TCP socket for every CONNECT (DESIGN §15), the
// way tcpd does for tcp://: the client holds nothing of this host's daemons.
class HandingOverDaemon {
 public:
  HandingOverDaemon(const std::filesystem::path& rundir, const std::string& name, int count)
      : socket_(ListeningSocket::bind(rundir, ServiceName(name))), remote_(silent_listener(64, port_)) {
    thread_ = std::thread([this, count] {
      for (int i = 0; i < count; ++i) {
        pollfd p{socket_.fd(), POLLIN, 0};
        if (::poll(&p, 1, 20000) <= 0) return;
        UniqueFd conn(::accept4(socket_.fd(), nullptr, nullptr, SOCK_CLOEXEC));
        if (!conn) return;
        try {
          (void)recv_frame_with_fd(conn.get(), default_max_payload, 20000);
          const UniqueFd tcp = tcp_connect(port_);
          send_frame_with_fd(conn.get(), Message::data("ok"), tcp.get());
        } catch (const std::exception&) {
          return;
        }
      }
    });
  }
  ~HandingOverDaemon() {
    ::shutdown(socket_.fd(), SHUT_RDWR);
    if (thread_.joinable()) thread_.join();
  }

 private:
  ListeningSocket socket_;
  int port_ = 0;
  UniqueFd remote_;
  std::thread thread_;
};

TEST_F(Ipcd, CountsRelayedRemoteConnectionsInMaxHeldButNotHandedOverOnes) {
  ::chmod(dir.path().c_str(), 0755);
  auto ipcd = start("ipcd", {"--max-held", "1"});
  auto askers = connect_as(65534, rundir / "ipc", 6);
  ASSERT_EQ(askers.size(), 6u);
  // Relayed: the connection occupies the daemon for as long as it is held.
  FakeProtocolDaemon relaying(rundir, "tcp", "ok");
  const auto relayed = lookup_on(askers[0].get(), "pong;pong tcp://127.0.0.1:9999/pong");
  ASSERT_EQ(relayed.message, Message::data("ok")) << relayed.message.payload;
  expect_echo(relayed.fd.get());
  const auto refused = lookup_on(askers[1].get(), "pong;pong tcp://127.0.0.1:9999/pong");
  expect_error(refused, "unavailable");
  EXPECT_NE(refused.message.payload.find("1 connections relayed by tcpd made through ipcd"), std::string::npos)
      << refused.message.payload;
  // tls:// is the same tcpd's: one place for both.
  const auto tls = lookup_on(askers[5].get(), "pong;pong tls://127.0.0.1:9999/pong");
  expect_error(tls, "unavailable");
  EXPECT_NE(tls.message.payload.find("relayed by tcpd"), std::string::npos) << tls.message.payload;
  // Handed over: the TCP socket itself is the client's, no daemon here holds a place for it.
  HandingOverDaemon handing(rundir, "ws", 3);
  std::vector<FrameWithFd> direct;
  for (int i = 2; i < 5; ++i) {
    direct.push_back(lookup_on(askers[i].get(), "pong;pong ws://127.0.0.1:9999/pong"));
    ASSERT_EQ(direct.back().message, Message::data("ok")) << direct.back().message.payload;
    ASSERT_TRUE(direct.back().fd.valid());
  }
  EXPECT_FALSE(status()["held"]["uids"]["65534"].contains("relayed by websocketd"));
}

TEST_F(Ipcd, GivesLegacyClientsErrorsThatAreNeverTwoBytes) {
  auto ipcd = start("ipcd");
  const auto answer = request(Message{MessageType::lookup, 3, "nothing;"}, "network");
  expect_error(answer, "not-found");
  EXPECT_NE(answer.message.payload.size(), 2u);
}

TEST_F(Ipcd, DeniesInboundByDefault) {
  auto ipcd = start("ipcd");
  auto pongd = start("pongd");
  const auto answer =
      request(Message{MessageType::inbound, 0, R"({"service":"pong","scheme":"tcp","peer":"127.0.0.1:5555"})"});
  expect_error(answer, "denied");
  EXPECT_EQ(status()["counters"]["inbound"]["denied"], 1);
}

TEST_F(Ipcd, AllowsInboundByRuleOnSchemeAddressAndIdentity) {
  auto ipcd = start("ipcd", {"--allow", "in", "pong", "tcp:127.0.0.0/8", "--allow", "in", "pong2", "id:alice",
                             "--deny", "in", "*", "*"});
  auto pongd = start("pongd");
  auto pongd2 = start("pongd", {"--name", "pong2"});
  auto ok = request(Message{MessageType::inbound, 0, R"({"service":"pong","scheme":"tcp","peer":"127.0.0.1:5555"})"});
  ASSERT_TRUE(ok.fd.valid()) << ok.message.payload;
  expect_echo(ok.fd.get());
  expect_error(request(Message{MessageType::inbound, 0, R"({"service":"pong","scheme":"tcp","peer":"10.1.2.3:5555"})"}),
               "denied");
  expect_error(request(Message{MessageType::inbound, 0, R"({"service":"pong2","scheme":"tls","peer":"10.1.2.3:1"})"}),
               "denied");
  auto alice = request(Message{MessageType::inbound, 0,
                               R"({"service":"pong2","scheme":"tls","peer":"[2001:db8::1]:1","identity":"alice"})"});
  ASSERT_TRUE(alice.fd.valid()) << alice.message.payload;
  expect_echo(alice.fd.get());
}

TEST_F(Ipcd, RefusesMalformedRequestsWithBadRequestAndServesOthers) {
  auto ipcd = start("ipcd");
  auto pongd = start("pongd");
  const std::vector<std::string> lookups{"", ";", "../x;", "a/b;", "pong;garbage", "pong;pong tcp://[::1/pong",
                                        "pong;pong ftp://host/pong", "pong;pong tcp://user:pw@/pong",
                                        std::string("po\0ng;", 6), std::string(70, 'x') + ";"};
  for (const auto& payload : lookups)
    expect_error(lookup(payload), "bad-request");
  for (const std::string& payload : std::vector<std::string>{"not json", "[]", R"({"service":"../x","scheme":"tcp"})",
                                    R"({"service":"pong","scheme":"gopher"})", R"({"service":"pong"})",
                                    R"({"service":"pong","scheme":"tcp","extra":1})"})
    expect_error(request(Message{MessageType::inbound, 0, payload}), "bad-request");
  expect_error(request(Message{MessageType::data, 0, "hello"}), "bad-request");
  expect_error(request(Message{static_cast<MessageType>(77), 0, ""}), "bad-request");
  expect_error(request(Message{MessageType::status, 0, R"({"command":"explode"})"}), "bad-request");
  expect_error(lookup(std::string(70000, 'p')), "too-large");
  expect_echo(lookup("pong;").fd.get());
}

TEST_F(Ipcd, AnswersTwoHundredConcurrentLookups) {
  auto ipcd = start("ipcd");
  auto pongd = start("pongd");
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 200; ++i) {
    threads.emplace_back([&, i] {
      try {
        ConnectOptions options;
        options.rundir = rundir;
        options.network = "pong unix:pong";
        Client client(ipc::connect(ServiceName("pong"), options));
        const auto sent = Message::data("lookup " + std::to_string(i));
        client.send(sent);
        if (client.receive() == sent) ++ok;
      } catch (const std::exception&) {
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 200);
  EXPECT_GE(status()["counters"]["lookups"]["ok"].get<int>(), 200);
}

TEST_F(Ipcd, KeepsServingWhenClientsDisconnectMidLookup) {
  auto ipcd = start("ipcd", {"--timeout", "2"});
  auto pongd = start("pongd");
  FakeProtocolDaemon silent(rundir, "tcp", "");
  {
    auto half = connect_raw(rundir / "ipc");  // half a header, then gone
    write_all(half.get(), std::string("\x03\x00", 2));
  }
  {
    auto waiting = connect_raw(rundir / "ipc");  // a whole lookup that waits on a silent daemon, then gone
    write_all(waiting.get(), encode(Message{MessageType::lookup, 0, "pong;pong tcp://127.0.0.1:9/pong"}));
    ASSERT_TRUE(wait_until([&] { return silent.connect_.has_value(); }));
  }
  {
    // A 1 MB garbage lookup: ipcd refuses it from the header and closes, maybe before we finish.
    auto garbage = connect_raw(rundir / "ipc");
    try {
      write_all(garbage.get(), encode(Message{MessageType::lookup, 0, std::string(1 << 20, 'g')}));
    } catch (const std::exception&) {
    }
    EXPECT_NE(read_until_eof(garbage.get()).find("too-large: "), std::string::npos);
  }
  expect_echo(lookup("pong;").fd.get());
  EXPECT_TRUE(ipcd.running());
}

TEST_F(Ipcd, DropsAClientThatSendsNothingAtTheDeadline) {
  auto ipcd = start("ipcd", {"--timeout", "1"});
  auto pongd = start("pongd");
  auto idle = connect_raw(rundir / "ipc");
  expect_echo(lookup("pong;").fd.get());  // served while the idle one waits
  const auto answer = read_until_eof(idle.get(), std::chrono::seconds(10));
  EXPECT_NE(answer.find("timeout: "), std::string::npos) << answer;
}

TEST_F(Ipcd, SurvivesRandomBytes) {
  auto ipcd = start("ipcd");
  auto pongd = start("pongd");
  std::mt19937 random(777);
  for (int round = 0; round < 40; ++round) {
    for (const char* socket : {"ipc", "network"}) {
      auto hostile = connect_raw(rundir / socket);
      std::string noise(1 + random() % 2048, '\0');
      for (char& c : noise) c = static_cast<char>(random());
      try {
        write_all(hostile.get(), noise);
      } catch (const std::exception&) {
      }
    }
  }
  expect_echo(lookup("pong;").fd.get());
  EXPECT_TRUE(ipcd.running());
}

TEST_F(Ipcd, LoadsRulesFromTheConfigFileAndReloadsOnSighup) {
  auto pongd = start("pongd");
  const auto config = dir / "ipcd.json";
  std::ofstream(config) << R"({"rules": ["deny out pong *"], "redirects": {"alias": "pong"}})";
  auto ipcd = start("ipcd", {"--config", config.string()});
  expect_error(lookup("pong;"), "denied");
  std::ofstream(config, std::ios::trunc) << R"({"rules": ["allow out pong *"]})";
  ipcd.signal(SIGHUP);
  ASSERT_TRUE(wait_until([&] { return status()["reloads"] == 1; }));
  expect_echo(lookup("pong;").fd.get());
  // An invalid file on reload keeps the previous configuration and says why.
  std::ofstream(config, std::ios::trunc) << R"({"rules": ["permit out pong *"]})";
  const auto r = ipcctl({"reload"});
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("rules[0]"), std::string::npos) << r.err;
  EXPECT_NE(ipcd.log().find("keeping the previous configuration"), std::string::npos);
  expect_echo(lookup("pong;").fd.get());
  std::ofstream(config, std::ios::trunc) << R"({"rules": ["deny out pong *"]})";
  EXPECT_EQ(ipcctl({"reload"}).status, 0);
  expect_error(lookup("pong;"), "denied");
  // A FIFO put in the file's place (nobody writes it) is refused at once; ipcd serves on.
  std::filesystem::remove(config);
  ASSERT_EQ(::mkfifo(config.c_str(), 0600), 0) << std::strerror(errno);
  ipcd.signal(SIGHUP);
  const auto fifo = ipcctl({"reload"});
  EXPECT_EQ(fifo.status, 1);
  EXPECT_NE(fifo.err.find("not a regular file (a FIFO)"), std::string::npos) << fifo.err;
  expect_error(lookup("pong;"), "denied");
  EXPECT_EQ(status()["reloads"], 2);
}

TEST_F(Ipcd, RefusesToStartWithAnInvalidConfigNamingFileAndKey) {
  const auto config = dir / "bad.json";
  std::ofstream(config) << R"({"routes": {"pong": "tcp://host:99999/pong"}})";
  const auto r = run(program("ipcd"), {"--rundir", rundir.string(), "--config", config.string()});
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find(config.string()), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("routes.pong"), std::string::npos) << r.err;
}

TEST_F(Ipcd, StatusShowsCountersRulesRedirectsAndRoutes) {
  auto ipcd = start("ipcd", {"--allow", "in", "pong", "tcp:10.0.0.0/8", "--redirect", "a", "b", "--route", "pong",
                             "tls://user:pw@example.com/pong"});
  const auto s = status();
  EXPECT_GE(s["uptime_seconds"].get<double>(), 0.0);
  EXPECT_EQ(s["rules"], nlohmann::json::array({"allow in pong tcp:10.0.0.0/8"}));
  EXPECT_EQ(s["redirects"]["a"], "b");
  EXPECT_EQ(s["routes"]["pong"], "tls://user:***@example.com:9443/pong");
  EXPECT_EQ(s.dump().find("pw@"), std::string::npos);
}

TEST_F(Ipcd, IpcctlSaysUnavailableWhenIpcdIsNotRunning) {
  std::filesystem::create_directories(rundir);
  const auto r = ipcctl({"status"});
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("unavailable"), std::string::npos) << r.err;
  const auto p = pong({}, "pong unix:pong");
  EXPECT_EQ(p.status, 1);
  EXPECT_NE(p.err.find("unavailable: ipcd is not running"), std::string::npos) << p.err;
}

TEST_F(Ipcd, PongRefusesAnInvalidIpcNetwork) {
  const auto r = pong({}, "pong tcp://");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("bad-request"), std::string::npos) << r.err;
}

TEST_F(Ipcd, RemovesBothSocketsOnSigterm) {
  auto ipcd = start("ipcd");
  EXPECT_TRUE(std::filesystem::exists(rundir / "ipc"));
  EXPECT_TRUE(std::filesystem::exists(rundir / "network"));
  EXPECT_EQ(ipcd.stop(), 0);
  EXPECT_FALSE(std::filesystem::exists(rundir / "ipc"));
  EXPECT_FALSE(std::filesystem::exists(rundir / "network"));
}

TEST_F(Ipcd, BadFlagsExitWithStatusTwoAndSayWhy) {
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases{
      {{"--allow", "in", "pong"}, "--allow takes 3 arguments"},
      {{"--allow", "sideways", "pong", "*"}, "--allow"},
      {{"--deny", "out", "../x", "*"}, "--deny"},
      {{"--redirect", "a"}, "--redirect takes 2 arguments"},
      {{"--route", "pong", "garbage://x/y"}, "--route"},
      {{"--default-in", "maybe"}, "--default-in"},
      {{"--timeout", "-1"}, "--timeout"},
      {{"--max-held", "many"}, "--max-held"},
      {{"--max-held", "-1"}, "--max-held"},
      {{"--config", "/nonexistent.json"}, "/nonexistent.json"},
      {{"--frobnicate"}, "frobnicate"},
  };
  for (const auto& [args, says] : cases) {
    const auto r = run(program("ipcd"), args, {{"IPC_RUNDIR", rundir.string()}});
    EXPECT_EQ(r.status, 2) << args[0] << ": " << r.err;
    EXPECT_NE(r.err.find(says), std::string::npos) << args[0] << ": " << r.err;
  }
  auto r = run(program("ipcctl"), {"explode"});
  EXPECT_EQ(r.status, 2);
  r = run(program("ipcctl"), {"lookup"});
  EXPECT_EQ(r.status, 2);
}

}  // namespace
}  // namespace ipc::test
