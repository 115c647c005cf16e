// Integration tests: the real pongd and pong in a temporary run directory.
#include <gtest/gtest.h>
#include <csignal>
#include <poll.h>
#include <grp.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ipc/client.hpp>
#include <ipc/error.hpp>
#include <ipc/message.hpp>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <fstream>
#include <random>
#include <thread>

#include <nlohmann/json.hpp>

#include "support/harness.hpp"

namespace ipc::test {
namespace {

class Pongd : public ::testing::Test {
 protected:
  TempDir dir;
  std::filesystem::path rundir = dir / "run";

  Process start_pongd(std::vector<std::string> args = {}, SpawnOptions options = {}) {
    return start_daemon("pongd", rundir, std::move(args), dir.path(), std::move(options));
  }
  RunResult pong(std::vector<std::string> args) {
    args.insert(args.begin(), {"--rundir", rundir.string()});
    return run(program("pong"), args);
  }
  Client client(const std::string& name = "pong") {
    ConnectOptions options;
    options.rundir = rundir;
    return Client::connect(ServiceName(name), options);
  }
};

TEST_F(Pongd, AnswersTenThousandRoundTrips) {
  auto daemon = start_pongd();
  const auto r = pong({"-n", "10000"});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("10000 round trips"), std::string::npos) << r.out;
}

TEST_F(Pongd, EchoesOneMegabytePayloadsIntact) {
  auto daemon = start_pongd();
  const auto r = pong({"-s", "1048576", "-n", "5"});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("5 round trips of 1048576 bytes"), std::string::npos) << r.out;
}

TEST_F(Pongd, EchoesTheUserTypeAndAnEmptyPayload) {
  auto daemon = start_pongd();
  auto c = client();
  for (int user_type : {0, 1, 200, 255}) {
    const Message sent{MessageType::data, static_cast<std::uint8_t>(user_type), ""};
    c.send(sent);
    EXPECT_EQ(c.receive(), sent);
  }
  const auto r = pong({"--user-type", "200", "-n", "3", "pong", "typed"});
  EXPECT_EQ(r.status, 0) << r.err;
}

TEST_F(Pongd, ServesAHundredConcurrentClients) {
  auto daemon = start_pongd();
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  std::vector<Client> clients;
  for (int i = 0; i < 100; ++i) clients.push_back(client());  // all connected at once
  for (int i = 0; i < 100; ++i) {
    threads.emplace_back([&, i] {
      try {
        for (int n = 0; n < 50; ++n) {
          const auto sent = Message::data("client " + std::to_string(i) + " frame " + std::to_string(n));
          clients[static_cast<std::size_t>(i)].send(sent);
          if (clients[static_cast<std::size_t>(i)].receive() != sent) return;
        }
        ++ok;
      } catch (const std::exception&) {
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 100);
}

TEST_F(Pongd, AnswersFramesPipelinedInOneWriteAndSplitAcrossWrites) {
  auto daemon = start_pongd();
  auto fd = connect_raw(rundir / "pong");
  // Three frames in one write, as the original C libipc may send them.
  std::string batch;
  for (const char* text : {"one", "", "three"}) append_frame(batch, Message::data(text, 7));
  write_all(fd.get(), batch);
  // A frame written one byte at a time.
  const std::string split = encode(Message::data("split frame", 9));
  for (char c : split) write_all(fd.get(), std::string_view(&c, 1));
  ::shutdown(fd.get(), SHUT_WR);
  const std::string answer = read_until_eof(fd.get());
  EXPECT_EQ(answer, batch + split);
}

TEST_F(Pongd, RefusesAFourGigabyteHeaderWithTooLargeAndKeepsServingOthers) {
  auto daemon = start_pongd();
  auto other = client();
  other.send(Message::data("before"));
  EXPECT_EQ(other.receive().payload, "before");

  auto hostile = connect_raw(rundir / "pong");
  const std::string header{'\x02', '\xff', '\xff', '\xff', '\xff', '\x00'};
  write_all(hostile.get(), header);
  const std::string answer = read_until_eof(hostile.get());  // ERROR frame, then EOF
  FrameDecoder decoder;
  decoder.feed(answer);
  Message error;
  ASSERT_EQ(decoder.next(error), FrameDecoder::Status::frame) << answer;
  EXPECT_EQ(error.type, MessageType::error);
  EXPECT_EQ(error.payload.rfind("too-large: ", 0), 0u) << error.payload;
  EXPECT_EQ(decoder.buffered(), 0u);

  other.send(Message::data("after"));
  EXPECT_EQ(other.receive().payload, "after");
}

TEST_F(Pongd, RefusesUnknownMessageTypesWithBadRequest) {
  auto daemon = start_pongd();
  auto hostile = connect_raw(rundir / "pong");
  write_all(hostile.get(), encode(Message{static_cast<MessageType>(99), 0, "?"}));
  const std::string answer = read_until_eof(hostile.get());
  EXPECT_NE(answer.find("bad-request: unknown message type 99"), std::string::npos) << answer;
  const auto r = pong({});
  EXPECT_EQ(r.status, 0) << r.err;
}

TEST_F(Pongd, SurvivesRandomBytes) {
  auto daemon = start_pongd();
  std::mt19937 random(12345);
  for (int round = 0; round < 50; ++round) {
    auto hostile = connect_raw(rundir / "pong");
    std::string noise(1 + random() % 4096, '\0');
    for (char& c : noise) c = static_cast<char>(random());
    try {
      write_all(hostile.get(), noise);
    } catch (const std::exception&) {
      // pongd may already have dropped us: fine.
    }
    // Whatever the noise was (a frame too large or of no known type, or a part of one), it
    // ends with an ERROR and a close, or with the close once pongd has seen the end of it.
    ::shutdown(hostile.get(), SHUT_WR);
    EXPECT_TRUE(closed_within(hostile.get(), 10s)) << "round " << round;
  }
  const auto r = pong({"-n", "100"});
  EXPECT_EQ(r.status, 0) << r.err << daemon.log();
  EXPECT_TRUE(daemon.running());
}

TEST_F(Pongd, RemovesItsSocketFileOnSigterm) {
  auto daemon = start_pongd();
  ASSERT_TRUE(std::filesystem::exists(rundir / "pong"));
  auto connected = client();  // a session in progress does not hold the shutdown up
  EXPECT_EQ(daemon.stop(), 0);
  EXPECT_FALSE(std::filesystem::exists(rundir / "pong"));
}

TEST_F(Pongd, ASecondPongdWithTheSameNameRefusesToStart) {
  auto first = start_pongd();
  SpawnOptions options;
  options.wait_ready = false;
  Process second(program("pongd"), {"--rundir", rundir.string()}, dir.path(), options);
  EXPECT_EQ(second.wait(), 1);
  EXPECT_NE(second.log().find("another process already answers on"), std::string::npos) << second.log();
  const auto r = pong({});
  EXPECT_EQ(r.status, 0) << r.err;
}

TEST_F(Pongd, ReplacesAStaleSocketFile) {
  std::filesystem::create_directories(rundir);
  {
    UniqueFd stale(::socket(AF_UNIX, SOCK_STREAM, 0));
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, (rundir / "pong").c_str(), sizeof addr.sun_path - 1);
    ASSERT_EQ(::bind(stale.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  }  // closed without unlink: the file stays, nobody answers
  auto daemon = start_pongd();
  const auto r = pong({});
  EXPECT_EQ(r.status, 0) << r.err;
}

TEST_F(Pongd, ServesUnderAnotherNameAndFromAConfigFile) {
  const auto config = dir / "pongd.json";
  std::ofstream(config) << R"({"name": "echo2", "max-connections": 10})";
  auto daemon = start_pongd({"--config", config.string()});
  const auto r = pong({"echo2", "hello"});
  EXPECT_EQ(r.status, 0) << r.err << daemon.log();
}

TEST_F(Pongd, TakesASocketPassedBySystemd) {
  std::filesystem::create_directories(rundir);
  UniqueFd listener(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, (rundir / "pong").c_str(), sizeof addr.sun_path - 1);
  ASSERT_EQ(::bind(listener.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(listener.get(), 16), 0);
  SpawnOptions options;
  options.listen_fd = listener.get();
  options.listen_fd_name = "pong";
  auto daemon = start_pongd({}, options);
  EXPECT_NE(daemon.log().find("passed by systemd"), std::string::npos) << daemon.log();
  const auto r = pong({"-n", "10"});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(daemon.stop(), 0);
  // systemd owns the socket file: pongd leaves it.
  EXPECT_TRUE(std::filesystem::exists(rundir / "pong"));
}

// A frame header announcing `length` bytes, then `sent` of them.
std::string partial_frame(std::uint32_t length, std::size_t sent) {
  std::string bytes(header_size, '\0');
  encode_header(std::span<std::uint8_t, header_size>(reinterpret_cast<std::uint8_t*>(bytes.data()), header_size),
                MessageType::data, length, 0);
  return bytes + std::string(sent, 'x');
}

TEST_F(Pongd, ClosesAClientIdleLongerThanTheIdleTimeoutAndSaysSo) {
  auto daemon = start_pongd({"--idle-timeout", "0.5"});
  auto idle = client();
  idle.send(Message::data("once"));
  EXPECT_EQ(idle.receive().payload, "once");
  // A client that keeps talking is not idle, for longer than the timeout.
  auto busy = client();
  const auto until = std::chrono::steady_clock::now() + 1500ms;
  while (std::chrono::steady_clock::now() < until) {
    busy.send(Message::data("still here"));
    EXPECT_EQ(busy.receive().payload, "still here");
    std::this_thread::sleep_for(50ms);  // the pace of a slow client, not a synchronisation
  }
  // The idle one was told why, then closed.
  const auto told = idle.receive();
  EXPECT_EQ(told.type, MessageType::error);
  EXPECT_EQ(told.payload, "timeout: idle for 0.5 s: closed (--idle-timeout)");
  EXPECT_TRUE(closed_within(idle.fd(), 10s));
  EXPECT_NE(daemon.log().find("idle for 0.5 s"), std::string::npos) << daemon.log();
}

TEST_F(Pongd, KeepsIdleClientsByDefault) {
  auto daemon = start_pongd();
  auto c = client();
  c.send(Message::data("a"));
  EXPECT_EQ(c.receive().payload, "a");
  pollfd p{c.fd(), POLLIN, 0};
  EXPECT_EQ(::poll(&p, 1, 1000), 0) << "pongd said something to an idle client";
  c.send(Message::data("b"));
  EXPECT_EQ(c.receive().payload, "b");
}

TEST_F(Pongd, RefusesTheLargestUnfinishedFrameWhenTheBufferBudgetIsSpent) {
  auto daemon = start_pongd({"--max-buffered", "4194304"});  // 4 MiB for every client together
  auto big = connect_raw(rundir / "pong");
  auto small = connect_raw(rundir / "pong");
  // 3 MiB of a 5 MiB frame, then 2 MiB of a 2.5 MiB one: together over the budget.
  write_all(big.get(), partial_frame(5 * 1024 * 1024, 3 * 1024 * 1024));
  write_all(small.get(), partial_frame(2621440, 2 * 1024 * 1024));
  // The largest holder is refused and closed; the other goes on and gets its whole frame back.
  FrameDecoder decoder;
  const auto answer = read_until_eof(big.get());
  decoder.feed(answer);
  Message refused;
  ASSERT_EQ(decoder.next(refused), FrameDecoder::Status::frame) << answer.size();
  EXPECT_EQ(refused.type, MessageType::error);
  EXPECT_EQ(refused.payload.rfind("too-large: ", 0), 0u) << refused.payload;
  EXPECT_NE(refused.payload.find("(4194304 bytes, --max-buffered)"), std::string::npos) << refused.payload;
  write_all(small.get(), std::string(2621440 - 2 * 1024 * 1024, 'x'));
  Client rest{std::move(small)};
  const auto echoed = rest.receive();
  EXPECT_EQ(echoed.payload, std::string(2621440, 'x'));
  // And everybody else is served.
  auto other = client();
  other.send(Message::data("unharmed"));
  EXPECT_EQ(other.receive().payload, "unharmed");
}

constexpr uid_t nobody = 65534;

TEST_F(Pongd, LetsOneUidHoldOnlyMaxPerPeerConnections) {
  ::chmod(dir.path().c_str(), 0755);  // nobody must reach the run directory
  auto daemon = start_pongd({"--max-per-peer", "3"});
  auto held = connect_as(nobody, rundir / "pong", 3);
  ASSERT_EQ(held.size(), 3u);
  for (auto& fd : held) {
    Client c{UniqueFd(::dup(fd.get()))};
    c.send(Message::data("mine"));
    EXPECT_EQ(c.receive().payload, "mine");
  }
  // A fourth from the same uid is told why and closed.
  auto fourth = connect_as(nobody, rundir / "pong", 1);
  ASSERT_EQ(fourth.size(), 1u);
  const auto answer = read_until_eof(fourth[0].get());
  EXPECT_NE(answer.find("unavailable: uid 65534 already holds 3 connections to this service (--max-per-peer)"),
            std::string::npos) << answer;
  // Root (like ipcd's user, connecting for many clients) is not counted; others are served.
  std::vector<Client> roots;
  for (int i = 0; i < 5; ++i) roots.push_back(client());
  for (auto& c : roots) {
    c.send(Message::data("root"));
    EXPECT_EQ(c.receive().payload, "root");
  }
  // One of nobody's leaves: nobody may connect again.
  held.pop_back();
  bool served = false;
  ASSERT_TRUE(wait_until([&] {
    auto again = connect_as(nobody, rundir / "pong", 1);
    if (again.size() != 1) return false;
    Client c{std::move(again[0])};
    c.send(Message::data("back"));
    try {
      served = c.receive().payload == "back";
    } catch (const std::exception&) {
      served = false;
    }
    return served;
  }, 10s));
}

TEST_F(Pongd, LetsInFlightRoundTripsFinishOnSigtermAndExitsZero) {
  auto daemon = start_pongd({"--drain", "30"});
  constexpr int count = 16;
  std::vector<Client> clients;
  for (int i = 0; i < count; ++i) clients.push_back(client());
  // And one that is connected and idle: nothing of it is in flight, it ends at once.
  auto idle = client();
  RoundTripLoad load(std::move(clients));
  ASSERT_TRUE(wait_until([&] { return load.answered() >= count * 20; }, 30s));
  daemon.signal(SIGTERM);
  EXPECT_TRUE(closed_within(idle.fd(), 10s));
  EXPECT_EQ(daemon.wait(), 0) << daemon.log();
  load.join();
  EXPECT_EQ(load.lost(), 0);
  EXPECT_EQ(load.refused(), count);
  // Every session ended when its exchange was done, none at the end of the 30 s drain.
  EXPECT_EQ(daemon.log().find("after the drain"), std::string::npos) << daemon.log();
}

TEST_F(Pongd, DropsAClientThatStopsReadingAtTheWriteTimeout) {
  auto daemon = start_pongd({"--write-timeout", "1"});
  // It sends requests and never reads the answers: they wait for it until the timeout.
  const UniqueFd stopped = connect_raw(rundir / "pong");
  send_until_pushed_back(stopped.get(), encode(Message::data(std::string(64 * 1024, 'x'))), 64 * 1024 * 1024, 10s);
  ASSERT_TRUE(wait_until([&] { return daemon.log().find("(--write-timeout)") != std::string::npos; }, 20s))
      << daemon.log();
  EXPECT_NE(daemon.log().find(": took nothing for 1 s while "), std::string::npos) << daemon.log();
  EXPECT_TRUE(closed_within(stopped.get(), 10s));
  auto other = client();
  other.send(Message::data("served"));
  EXPECT_EQ(other.receive().payload, "served");
}

TEST_F(Pongd, AtTheConnectionCapClosesTheClientIdleLongestToServeANewOne) {
  auto daemon = start_pongd({"--max-connections", "3"});
  std::vector<Client> holders;
  for (int i = 0; i < 3; ++i) holders.push_back(client());
  // The first two talk now and then; the third connected and said nothing.
  std::vector<Client*> talking{&holders[0], &holders[1]};
  const auto until = std::chrono::steady_clock::now() + 1500ms;
  while (std::chrono::steady_clock::now() < until) {
    for (Client* c : talking) {
      c->send(Message::data("busy"));
      EXPECT_EQ(c->receive().payload, "busy");
    }
    std::this_thread::sleep_for(100ms);  // the pace of slow clients, not a synchronisation
  }
  // A new client is served: the silent one made room, and was told why.
  auto newcomer = client();
  newcomer.send(Message::data("let me in"));
  EXPECT_EQ(newcomer.receive().payload, "let me in");
  const auto told = holders[2].receive();
  EXPECT_EQ(told.type, MessageType::error);
  EXPECT_EQ(told.payload.rfind("unavailable: closed to make room for a new connection: idle for ", 0), 0u) << told.payload;
  for (Client* c : talking) {
    c->send(Message::data("still"));
    EXPECT_EQ(c->receive().payload, "still");
  }
}

TEST_F(Pongd, ExitsWithAnErrorWhenItsRunDirectoryOrSocketIsRemoved) {
  {
    auto daemon = start_pongd();
    std::filesystem::remove_all(rundir);
    EXPECT_EQ(daemon.wait(10s), 1) << daemon.log();
    // (rm -r takes the socket first, then the directory: either is reported.)
    EXPECT_NE(daemon.log().find(" was removed: nobody can connect any more; stopping (exit status 1)"),
              std::string::npos) << daemon.log();
  }
  auto daemon = start_pongd();
  auto other = start_pongd({"--name", "other"});
  std::filesystem::remove(rundir / "pong");
  EXPECT_EQ(daemon.wait(10s), 1) << daemon.log();
  EXPECT_NE(daemon.log().find("the socket " + (rundir / "pong").string() + " was removed"), std::string::npos)
      << daemon.log();
  // A service whose socket is still there goes on.
  EXPECT_TRUE(other.running());
  auto c = client("other");
  c.send(Message::data("here"));
  EXPECT_EQ(c.receive().payload, "here");
  EXPECT_EQ(other.stop(), 0);
}

TEST_F(Pongd, BadFlagsExitWithStatusTwoAndSayWhy) {
  struct Case {
    std::string program;
    std::vector<std::string> args;
    std::string says;
  };
  const std::vector<Case> cases{
      {"pongd", {"--bogus"}, "bogus"},
      {"pongd", {"--name", "../x"}, "invalid service name '../x'"},
      {"pongd", {"--name", ""}, "invalid service name"},
      {"pongd", {"--log-level", "loud"}, "--log-level"},
      {"pongd", {"--max-connections", "0"}, "--max-connections"},
      {"pongd", {"--max-connections", "many"}, "max-connections"},
      {"pongd", {"--idle-timeout", "-1"}, "--idle-timeout: from 0 to 86400 seconds"},
      {"pongd", {"--drain", "-1"}, "--drain: from 0 to 86400 seconds"},
      {"pongd", {"--drain", "later"}, "drain"},
      {"pongd", {"--idle-timeout", "soon"}, "idle-timeout"},
      {"pongd", {"--max-buffered", "lots"}, "max-buffered"},
      {"pongd", {"--max-buffered", "-5"}, "--max-buffered: expected a number from 0 to 4611686018427387904"},
      {"pongd", {"--max-buffered", "9223372036854775808"}, "--max-buffered: expected a number from 0 to 4611686018427387904"},
      {"pongd", {"--max-connections", "-1"}, "--max-connections: expected a number from 0 to"},
      {"pongd", {"--max-per-peer", "x"}, "max-per-peer"},
      {"pongd", {"--config", "/nonexistent/pongd.json"}, "cannot read config file"},
      {"pongd", {"--config", "/dev/null"}, "not a regular file (a character device)"},
      {"pong", {"-n", "0"}, "--count"},
      {"pong", {"--user-type", "256"}, "--user-type"},
      {"pong", {"a/b"}, "invalid service name 'a/b'"},
      {"pong", {"a", "b", "c"}, "too many positional options"},
  };
  for (const auto& c : cases) {
    const auto r = run(program(c.program), c.args, {{"IPC_RUNDIR", rundir.string()}});
    EXPECT_EQ(r.status, 2) << c.program << " " << c.args[0] << ": " << r.err;
    EXPECT_NE(r.err.find(c.says), std::string::npos) << c.program << " " << c.args[0] << ": " << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  }
}

TEST_F(Pongd, ABadConfigFileExitsWithStatusTwoNamingTheKey) {
  const auto config = dir / "bad.json";
  std::ofstream(config) << R"({"nmae": "x"})";
  auto r = run(program("pongd"), {"--rundir", rundir.string(), "--config", config.string()});
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("unknown key 'nmae'"), std::string::npos) << r.err;
  std::ofstream(config, std::ios::trunc) << R"({"name": {"nested": 1}})";
  r = run(program("pongd"), {"--rundir", rundir.string(), "--config", config.string()});
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("key 'name': expected a string or a number"), std::string::npos) << r.err;
  std::ofstream(config, std::ios::trunc) << R"({"name": "../x"})";
  r = run(program("pongd"), {"--rundir", rundir.string(), "--config", config.string()});
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("invalid service name '../x'"), std::string::npos) << r.err;
  std::ofstream(config, std::ios::trunc) << "{not json";
  r = run(program("pongd"), {"--rundir", rundir.string(), "--config", config.string()});
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("not valid JSON"), std::string::npos) << r.err;
}

TEST_F(Pongd, PongReportsAMissingServiceAndExitsNonZero) {
  std::filesystem::create_directories(rundir);
  const auto r = pong({"nothing-here"});
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("not-found"), std::string::npos) << r.err;
}

TEST_F(Pongd, PongReportsAServiceThatDiesMidStream) {
  auto daemon = start_pongd();
  auto c = client();
  c.send(Message::data("x"));
  EXPECT_EQ(c.receive().payload, "x");
  daemon.signal(SIGKILL);
  daemon.wait();
  try {
    c.send(Message::data("y"));
    (void)c.receive();
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::unavailable);
  }
}

TEST_F(Pongd, VersionAndHelpDescribeEveryFlag) {
  auto r = run(program("pongd"), {"--version"});
  EXPECT_EQ(r.status, 0);
  EXPECT_NE(r.out.find("pongd (ipc suite)"), std::string::npos);
  r = run(program("pongd"), {"--help"});
  EXPECT_EQ(r.status, 0);
  for (const char* flag : {"--name", "--rundir", "--log-level", "--config", "--max-message", "--max-connections"})
    EXPECT_NE(r.out.find(flag), std::string::npos) << flag;
  r = run(program("pong"), {"--help"});
  EXPECT_EQ(r.status, 0);
  for (const char* flag : {"--count", "--size", "--user-type", "--timeout", "--rundir"})
    EXPECT_NE(r.out.find(flag), std::string::npos) << flag;
}

// Sends `frame` with each of `fds` attached (SCM_RIGHTS) in one sendmsg; whether it all went.
bool send_with_fds(int socket, const Message& frame, const std::vector<int>& fds) {
  const std::string bytes = encode(frame);
  iovec iov{const_cast<char*>(bytes.data()), bytes.size()};
  std::vector<char> control(CMSG_SPACE(sizeof(int) * std::max<std::size_t>(fds.size(), 1)));
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  if (!fds.empty()) {
    msg.msg_control = control.data();
    msg.msg_controllen = CMSG_SPACE(sizeof(int) * fds.size());
    cmsghdr* header = CMSG_FIRSTHDR(&msg);
    header->cmsg_level = SOL_SOCKET;
    header->cmsg_type = SCM_RIGHTS;
    header->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
    std::memcpy(CMSG_DATA(header), fds.data(), sizeof(int) * fds.size());
  }
  return ::sendmsg(socket, &msg, MSG_NOSIGNAL) == static_cast<ssize_t>(bytes.size());
}

// The answer to one ADOPT on a fresh connection to pong@adopt.
std::string adopt_answer(const std::filesystem::path& rundir, const Message& frame, const std::vector<int>& fds) {
  auto daemon = connect_raw(rundir / "pong@adopt");
  EXPECT_TRUE(send_with_fds(daemon.get(), frame, fds)) << std::strerror(errno);
  const auto answer = recv_frame_with_fd(daemon.get(), 65536, 10000);
  return std::string(to_string(answer.message.type)) + " " + answer.message.payload;
}

TEST_F(Pongd, AdoptsAConnectionHandedOverOnItsAdoptionSocketAndServesIt) {
  auto daemon = start_pongd({"--log-level", "debug"});
  int pair[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair), 0);
  UniqueFd ours(pair[0]), theirs(pair[1]);
  const Message adopt{MessageType::adopt, 0, R"({"service":"pong","scheme":"tcp","peer":"192.0.2.7:51234"})"};
  EXPECT_EQ(adopt_answer(rundir, adopt, {theirs.get()}), "DATA ok");
  theirs.reset();
  write_all(ours.get(), encode(Message::data("adopted", 4)));
  EXPECT_EQ(read_until(ours.get(), [](const std::string& got) { return got.size() >= header_size + 7; }),
            encode(Message::data("adopted", 4)));
  EXPECT_TRUE(wait_until([&] { return daemon.log().find("echoing for tcp peer 192.0.2.7:51234") != std::string::npos; }))
      << daemon.log();
}

TEST_F(Pongd, RefusesBadAdoptionsAndAdoptionsFromOtherUsersAndServesOnUnharmed) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to connect as another uid";
  ::chmod(dir.path().c_str(), 0755);  // nobody must reach the run directory
  auto daemon = start_pongd();
  auto steady = client();
  steady.send(Message::data("before"));
  EXPECT_EQ(steady.receive().payload, "before");
  int pair[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair), 0);
  UniqueFd ours(pair[0]), theirs(pair[1]);
  const Message adopt{MessageType::adopt, 0, R"({"service":"pong","scheme":"tcp","peer":"192.0.2.7:1"})"};
  // A service's user (or anybody's) may not hand pongd a connection with a made-up description.
  {
    auto as_nobody = connect_as(65534, rundir / "pong@adopt", 1);
    ASSERT_EQ(as_nobody.size(), 1u);
    // (It may fail: pongd answers and closes without reading a byte.)
    (void)send_with_fds(as_nobody[0].get(), adopt, {theirs.get()});
    const auto answer = recv_frame_with_fd(as_nobody[0].get(), 65536, 10000);
    EXPECT_EQ(answer.message.payload.rfind("denied: ADOPT is only taken from root", 0), 0u) << answer.message.payload;
    EXPECT_NE(answer.message.payload.find("not from uid 65534"), std::string::npos) << answer.message.payload;
  }
  EXPECT_EQ(adopt_answer(rundir, adopt, {}).rfind("ERROR bad-request: ADOPT without a connection", 0), 0u);
  int pipe_fds[2];
  ASSERT_EQ(::pipe2(pipe_fds, O_CLOEXEC), 0);
  UniqueFd pipe_read(pipe_fds[0]), pipe_write(pipe_fds[1]);
  EXPECT_EQ(adopt_answer(rundir, adopt, {pipe_read.get()}).rfind("ERROR bad-request: ADOPT's file descriptor is not", 0),
            0u);
  EXPECT_EQ(adopt_answer(rundir, adopt, {theirs.get(), pipe_read.get()}).rfind("ERROR bad-request:", 0), 0u);
  EXPECT_EQ(adopt_answer(rundir, Message{MessageType::adopt, 0, "{not json"}, {theirs.get()}).rfind("ERROR bad-request:", 0),
            0u);
  EXPECT_EQ(adopt_answer(rundir, Message{MessageType::adopt, 0, R"({"service":"pong","scheme":"unix"})"}, {theirs.get()})
                .rfind("ERROR bad-request: ADOPT: unknown scheme", 0),
            0u);
  EXPECT_EQ(adopt_answer(rundir, Message::data("hello"), {theirs.get()}).rfind("ERROR bad-request: the adoption socket takes ADOPT", 0),
            0u);
  // A ws:// adoption needs a TCP connection and a whole WebSocket upgrade request.
  const auto ws_adopt = [](const std::string& request) {
    return Message{MessageType::adopt, 0,
                   nlohmann::json{{"service", "pong"}, {"scheme", "ws"}, {"peer", "192.0.2.7:1"}, {"request", request}}
                       .dump()};
  };
  const std::string upgrade = "GET /pong HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                              "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
  EXPECT_EQ(adopt_answer(rundir, ws_adopt(upgrade), {theirs.get()}),
            "ERROR bad-request: ADOPT: a ws:// connection must be a TCP socket");
  int port = 0;
  const UniqueFd listener = silent_listener(4, port);
  const UniqueFd tcp = tcp_connect(port);
  for (const auto& [request, says] : std::vector<std::pair<std::string, std::string>>{
           {"not http at all\r\n\r\n", "the upgrade request is not HTTP"},
           {"GET /pong HTTP/1.1\r\nHost: h\r\n", "the upgrade request is not whole"},
           {upgrade + "GET / HTTP/1.1\r\n\r\n", "is followed by 18 more bytes"},
           {"GET /pong HTTP/1.1\r\nHost: h\r\n\r\n", "does not ask for a WebSocket upgrade"},
           {"GET /pong HTTP/1.1\r\nX: " + std::string(20000, 'x') + "\r\n\r\n", "the upgrade request is not HTTP"}}) {
    const auto answer = adopt_answer(rundir, ws_adopt(request), {tcp.get()});
    EXPECT_EQ(answer.rfind("ERROR bad-request: ADOPT: ", 0), 0u) << answer;
    EXPECT_NE(answer.find(says), std::string::npos) << answer;
  }
  // None of those was adopted: the far end of the pair was never answered by pongd.
  theirs.reset();
  EXPECT_EQ(read_until_eof(ours.get(), 2s), "");
  // The clients it had are served on.
  steady.send(Message::data("after"));
  EXPECT_EQ(steady.receive().payload, "after");
  EXPECT_TRUE(daemon.running());
}

TEST_F(Pongd, TakesAnAdoptionAtItsConnectionCapOnlyToTellThePeerUnavailable) {
  // Refused, the daemon would relay it past the cap: the service takes it and says why to the
  // peer, as to a local client, and the daemon forgets it.
  auto daemon = start_pongd({"--max-connections", "1"});
  const Message adopt{MessageType::adopt, 0, R"({"service":"pong","scheme":"tcp","peer":"192.0.2.7:1"})"};
  // The far end of a fresh pair, adopted: what the peer's end then reads.
  const auto adopted_then = [&](const std::string& says) {
    int pair[2];
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair), 0);
    UniqueFd ours(pair[0]), theirs(pair[1]);
    EXPECT_EQ(adopt_answer(rundir, adopt, {theirs.get()}), "DATA ok");
    theirs.reset();
    write_all(ours.get(), encode(Message::data(says)));
    return read_until(ours.get(), [](const std::string& got) {
      return got.size() >= header_size && got.size() >= header_size + decode_header(got.data()).length;
    });
  };
  {
    auto local = client();
    local.send(Message::data("holding the one slot"));
    EXPECT_EQ(local.receive().payload, "holding the one slot");
    EXPECT_EQ(adopted_then("in"),
              encode(Message::error("unavailable: the service is at its cap of 1 connections (--max-connections)")));
  }
  // The slot is free once the local client has gone.
  std::string answer;
  ASSERT_TRUE(wait_until([&] {
    answer = adopted_then("in");
    return answer == encode(Message::data("in"));
  })) << answer;
  EXPECT_NE(daemon.log().find("tcp peer 192.0.2.7:1: unavailable: the service is at its cap"), std::string::npos)
      << daemon.log();
}

TEST_F(Pongd, OpensNoAdoptionSocketWithNoAdoptAndRemovesItsOwnAtStop) {
  {
    auto daemon = start_pongd({"--no-adopt"});
    EXPECT_FALSE(std::filesystem::exists(rundir / "pong@adopt"));
  }
  auto daemon = start_pongd();
  EXPECT_TRUE(std::filesystem::exists(rundir / "pong@adopt"));
  EXPECT_EQ(daemon.stop(), 0);
  EXPECT_FALSE(std::filesystem::exists(rundir / "pong@adopt"));
}

}  // namespace
}  // namespace ipc::test
