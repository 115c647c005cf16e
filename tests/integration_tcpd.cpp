// Integration tests: two simulated hosts on one machine, each a run directory with ipcd and
// tcpd; pongd on host B. A client on A reaches B's pongd through tcp://.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <atomic>
#include <cstring>
#include <optional>
#include <csignal>
#include <fstream>
#include <iostream>
#include <unistd.h>
#include <ipc/client.hpp>
#include <ipc/error.hpp>
#include <nlohmann/json.hpp>
#include <regex>
#include <thread>
#include <tuple>

#include "support/harness.hpp"

namespace ipc::test {
namespace {

// A loopback port nothing listens on (bound, then closed).
int closed_port() {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&addr), &len);
  return ntohs(addr.sin_port);
}

// A loopback listener with a backlog of 0 and one connection already in its queue: the kernel
// drops every further SYN, so a connect to it neither succeeds nor fails (a black hole).
struct FullListener {
  UniqueFd listener;
  UniqueFd filler;
  int port = 0;
};

FullListener full_listener() {
  FullListener full;
  full.listener = silent_listener(0, full.port);
  full.filler = tcp_connect(full.port);
  return full;
}

class Tcpd : public ::testing::Test {
 protected:
  TempDir dir;
  std::filesystem::path a = dir / "a";
  std::filesystem::path b = dir / "b";

  Process start(const std::filesystem::path& rundir, const std::string& name, std::vector<std::string> args = {}) {
    return start_daemon(name, rundir, std::move(args), dir.path());
  }
  // Host B: ipcd with `ipcd_args`, tcpd on a free port (+ `tcpd_args`), pongd.
  ServingHost start_b(std::vector<std::string> ipcd_args, std::vector<std::string> tcpd_args = {}) {
    tcpd_args.insert(tcpd_args.begin(), {"--listen", "127.0.0.1:0"});
    return start_serving_host(b, dir.path(), std::move(ipcd_args), std::move(tcpd_args));
  }
  CallingHost start_a(std::vector<std::string> tcpd_args = {"--no-listen"}) {
    return start_calling_host(a, dir.path(), std::move(tcpd_args));
  }
  RunResult pong(const std::string& network, std::vector<std::string> args = {}) {
    args.insert(args.begin(), {"--rundir", a.string()});
    return run(program("pong"), args, {{"IPC_NETWORK", network}});
  }
  Client client(int port, const std::string& service = "pong") {
    ConnectOptions options;
    options.rundir = a;
    options.network = service + " tcp://127.0.0.1:" + std::to_string(port) + "/" + service;
    return Client(ipc::connect(ServiceName(service), options));
  }
  // ipcctl status's count of connections of `direction` ("out", "in") by scheme and path
  // (handed over, relayed), as {"tcp": {"handed_over": 3}}.
  static nlohmann::json paths(const std::filesystem::path& rundir, const std::string& direction) {
    return ipc_paths(rundir, direction);
  }
  static std::string route(int port) { return "pong tcp://127.0.0.1:" + std::to_string(port) + "/pong"; }
};

TEST_F(Tcpd, CarriesPongAcrossTwoHosts) {
  auto hb = start_b({"--allow", "in", "pong", "tcp:127.0.0.1"});
  auto ha = start_a();
  const auto r = pong(route(hb.port), {"-n", "1000"});
  EXPECT_EQ(r.status, 0) << r.err << hb.tcpd.log();
  EXPECT_NE(r.out.find("1000 round trips"), std::string::npos);
}

TEST_F(Tcpd, CarriesOneMegabyteFramesIntact) {
  auto hb = start_b({"--allow", "in", "pong", "tcp:127.0.0.1"});
  auto ha = start_a();
  const auto r = pong(route(hb.port), {"-n", "10", "-s", "1048576"});
  EXPECT_EQ(r.status, 0) << r.err;
}

TEST_F(Tcpd, ServesFiftyConcurrentClients) {
  auto hb = start_b({"--allow", "in", "pong", "tcp:127.0.0.1"});
  auto ha = start_a();
  std::vector<Client> clients;
  for (int i = 0; i < 50; ++i) clients.push_back(client(hb.port));
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 50; ++i) {
    threads.emplace_back([&, i] {
      try {
        auto& c = clients[static_cast<std::size_t>(i)];
        for (int n = 0; n < 20; ++n) {
          const auto sent = Message::data("client " + std::to_string(i) + " #" + std::to_string(n), 7);
          c.send(sent);
          if (c.receive() != sent) return;
        }
        ++ok;
      } catch (const std::exception&) {
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 50);
}

int socket_option(int fd, int level, int name) {
  int value = -1;
  socklen_t length = sizeof value;
  if (::getsockopt(fd, level, name, &value, &length) != 0) return -1;
  return value;
}

TEST_F(Tcpd, HandsTheClientTheTcpSocketItselfBlockingWithKeepalive) {
  auto hb = start_b({"--allow", "in", "pong", "tcp:127.0.0.1"});
  auto ha = start_a({"--no-listen", "--keepalive", "7"});
  auto c = client(hb.port);
  // The fd is the TCP connection to B, as a freshly connected socket would be.
  sockaddr_storage local{};
  socklen_t length = sizeof local;
  ASSERT_EQ(::getsockname(c.fd(), reinterpret_cast<sockaddr*>(&local), &length), 0);
  EXPECT_EQ(local.ss_family, AF_INET);
  EXPECT_EQ(socket_option(c.fd(), SOL_SOCKET, SO_TYPE), SOCK_STREAM);
  EXPECT_EQ(::fcntl(c.fd(), F_GETFL) & O_NONBLOCK, 0);
  EXPECT_EQ(socket_option(c.fd(), IPPROTO_TCP, TCP_NODELAY), 1);
  EXPECT_EQ(socket_option(c.fd(), SOL_SOCKET, SO_KEEPALIVE), 1);
  EXPECT_EQ(socket_option(c.fd(), IPPROTO_TCP, TCP_KEEPIDLE), 7);
  EXPECT_GT(socket_option(c.fd(), IPPROTO_TCP, TCP_USER_TIMEOUT), 0);
  // The original C libipc's way: plain blocking send() and recv() on it.
  const std::string frame = encode(Message::data("plain recv", 9));
  ASSERT_EQ(::send(c.fd(), frame.data(), frame.size(), MSG_NOSIGNAL), static_cast<ssize_t>(frame.size()));
  std::string echoed(frame.size(), '\0');
  std::size_t got = 0;
  while (got < echoed.size()) {
    const ssize_t n = ::recv(c.fd(), echoed.data() + got, echoed.size() - got, 0);
    ASSERT_GT(n, 0);
    got += static_cast<std::size_t>(n);
  }
  EXPECT_EQ(echoed, frame);
  // A's ipcd counts the path it took.
  const auto counted = paths(a, "out");
  EXPECT_EQ(counted["tcp"]["handed_over"], 1) << counted;
  EXPECT_FALSE(counted["tcp"].contains("relayed")) << counted;
}

TEST_F(Tcpd, CarriesEverySizeOfFrameAcrossTheHandoffWrittenTheMomentTheFdArrives) {
  auto hb = start_b({"--allow", "in", "pong", "tcp:127.0.0.1"});
  auto ha = start_a();
  // Everything in one write, the moment the client has the fd: the frames land on the TCP
  // socket at once, before B has anything but its handshake answer out.
  std::string burst;
  std::vector<std::size_t> sizes{0, 1, 5, 6, 63, 64, 1400, 65535, 65536, 65537, 1 << 20, (4 << 20) + 3};
  for (std::size_t i = 0; i < sizes.size(); ++i)
    burst += encode(Message::data(std::string(sizes[i], static_cast<char>('a' + i)), static_cast<std::uint8_t>(i)));
  for (int round = 0; round < 3; ++round) {
    auto c = client(hb.port);
    std::thread writer([&] { write_all(c.fd(), burst); });
    const std::string echoed = read_until(c.fd(), [&](const std::string& got) { return got.size() >= burst.size(); }, 30s);
    writer.join();
    EXPECT_EQ(echoed.size(), burst.size());
    EXPECT_TRUE(echoed == burst) << "round " << round << ": the echo differs";
  }
  EXPECT_EQ(paths(a, "out")["tcp"]["handed_over"], 3) << paths(a, "out");
}

TEST_F(Tcpd, KeepsNothingOfHandedOverConnectionsAndTheyOutliveEveryDaemon) {
  auto hb = start_b({"--allow", "in", "pong", "tcp:127.0.0.1"});
  auto ha = start_a({"--no-listen", "--max-connections", "20"});
  EXPECT_TRUE(std::filesystem::exists(b / "pong@adopt"));
  // Room for the connections in this process (B's daemons raise their own limits).
  rlimit limit{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &limit), 0);
  if (limit.rlim_cur < 4096 && limit.rlim_max >= 4096) {
    limit.rlim_cur = 4096;
    ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &limit), 0);
  }
  // One connection first: what the daemons open once for good (the resolver's thread) is in the
  // idle counts.
  {
    auto first = client(hb.port);
    first.send(Message::data("warm up"));
    EXPECT_EQ(first.receive().payload, "warm up");
  }
  long idle_fds = 0, idle_ipcd_fds = 0, idle_b_fds = 0, watched_a = 0, watched_b = 0;
  // Settled (the warm-up's sessions ended): the same counts twice in a row.
  ASSERT_TRUE(wait_until([&] {
    const long t = fd_count(ha.tcpd.pid()), i = fd_count(ha.ipcd.pid()), bt = fd_count(hb.tcpd.pid());
    const long wa = epoll_watch_count(ha.tcpd.pid()), wb = epoll_watch_count(hb.tcpd.pid());
    const bool same = t == idle_fds && i == idle_ipcd_fds && bt == idle_b_fds && wa == watched_a && wb == watched_b;
    idle_fds = t, idle_ipcd_fds = i, idle_b_fds = bt, watched_a = wa, watched_b = wb;
    return same;
  }));
  ASSERT_GT(watched_a, 0);
  ASSERT_GT(idle_fds, 0);
  ASSERT_GT(idle_b_fds, 0);
  // Many more than A's tcpd would take at once were it holding them (--max-connections 20).
  std::vector<Client> clients;
  for (int i = 0; i < 1000; ++i) clients.push_back(client(hb.port));
  // (The last sessions may still be ending as the clients get their fds: waited for, briefly.)
  EXPECT_TRUE(wait_until([&] { return fd_count(ha.tcpd.pid()) == idle_fds; }, 5s)) << fd_count(ha.tcpd.pid());
  EXPECT_TRUE(wait_until([&] { return fd_count(ha.ipcd.pid()) == idle_ipcd_fds; }, 5s)) << fd_count(ha.ipcd.pid());
  // B's tcpd handed each one to pongd, which adopted it.
  EXPECT_TRUE(wait_until([&] { return fd_count(hb.tcpd.pid()) == idle_b_fds; }, 5s)) << fd_count(hb.tcpd.pid());
  // Nor do their epoll sets still watch them (each would wake the daemon for every byte).
  EXPECT_TRUE(wait_until([&] { return epoll_watch_count(ha.tcpd.pid()) == watched_a; }, 5s))
      << epoll_watch_count(ha.tcpd.pid()) << " vs " << watched_a;
  EXPECT_TRUE(wait_until([&] { return epoll_watch_count(hb.tcpd.pid()) == watched_b; }, 5s))
      << epoll_watch_count(hb.tcpd.pid()) << " vs " << watched_b;
  EXPECT_EQ(paths(b, "in")["tcp"]["handed_over"], 1001) << paths(b, "in");
  EXPECT_EQ(paths(a, "out")["tcp"]["handed_over"], 1001) << paths(a, "out");
  // Both hosts' daemons may go: the connections are the client's and pongd's own.
  for (Process* p : {&ha.tcpd, &ha.ipcd, &hb.tcpd, &hb.ipcd}) p->signal(SIGKILL);
  for (Process* p : {&ha.tcpd, &ha.ipcd, &hb.tcpd, &hb.ipcd}) p->wait();
  for (std::size_t i = 0; i < clients.size(); i += 97) {
    clients[i].send(Message::data("still " + std::to_string(i)));
    EXPECT_EQ(clients[i].receive().payload, "still " + std::to_string(i));
  }
}

TEST_F(Tcpd, LosesNothingWhenTheServiceWritesFirstAndTheClientWritesAtOnce) {
  auto ipcd_b = start(b, "ipcd", {"--allow", "in", "greeter", "tcp:127.0.0.1"});
  auto tcpd_b = start(b, "tcpd", {"--listen", "127.0.0.1:0"});
  auto greeter = start(b, "greeter", {"--log-level", "debug"});
  const int port = logged_port(tcpd_b);
  auto ha = start_a();
  const std::string burst = encode(Message::data("first", 1)) + encode(Message::data(std::string(300000, 'z'), 2));
  for (int round = 0; round < 20; ++round) {
    auto c = client(port, "greeter");
    write_all(c.fd(), burst);  // at once, before reading the greeting
    const Message hello = c.receive();
    // The greeting names the remote peer as B's tcpd saw it: the description reached the service.
    EXPECT_EQ(hello.payload.rfind("hello tcp 127.0.0.1:", 0), 0u) << hello.payload;
    EXPECT_EQ(c.receive().payload, "first");
    const Message big = c.receive();
    EXPECT_EQ(big.user_type, 2);
    EXPECT_TRUE(big.payload == std::string(300000, 'z'));
  }
  EXPECT_EQ(paths(b, "in")["tcp"]["handed_over"], 20) << paths(b, "in");
}

TEST_F(Tcpd, RelaysToAServiceWithoutAnAdoptionSocketAsToTheOriginalCServices) {
  auto ipcd_b = start(b, "ipcd", {"--allow", "in", "pong", "tcp:127.0.0.1"});
  auto tcpd_b = start(b, "tcpd", {"--listen", "127.0.0.1:0"});
  // The original C libipc's services open no RUNDIR/NAME@adopt: neither does this one.
  auto pongd = start(b, "pongd", {"--no-adopt"});
  EXPECT_FALSE(std::filesystem::exists(b / "pong@adopt"));
  auto ha = start_a();
  const auto r = pong(route(logged_port(tcpd_b)), {"-n", "50"});
  EXPECT_EQ(r.status, 0) << r.err << tcpd_b.log();
  EXPECT_EQ(paths(b, "in")["tcp"]["relayed"], 1) << paths(b, "in");
  EXPECT_FALSE(paths(b, "in")["tcp"].contains("handed_over")) << paths(b, "in");
  // Relayed connections hold descriptors in B's tcpd while open, and give them back when closed.
  const long idle = fd_count(tcpd_b.pid());
  {
    std::vector<Client> clients;
    for (int i = 0; i < 20; ++i) clients.push_back(client(logged_port(tcpd_b)));
    EXPECT_GE(fd_count(tcpd_b.pid()), idle + 40);
  }
  EXPECT_TRUE(wait_until([&] { return fd_count(tcpd_b.pid()) == idle; })) << fd_count(tcpd_b.pid()) << " vs " << idle;
}

// A stand-in for a service's adoption socket at RUNDIR/pong@adopt that answers every ADOPT with
// `answer` (nullopt: reads it and closes without a word).
class FakeAdopter {
 public:
  FakeAdopter(const std::filesystem::path& path, std::optional<Message> answer) : answer_(std::move(answer)) {
    listener_ = UniqueFd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::strncpy(address.sun_path, path.c_str(), sizeof address.sun_path - 1);
    if (::bind(listener_.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 || ::listen(listener_.get(), 8) != 0)
      throw std::runtime_error("cannot listen on " + path.string());
    thread_ = std::thread([this] {
      UniqueFd daemon(::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC));
      if (!daemon) return;
      try {
        got_ = recv_frame_with_fd(daemon.get(), 65536, 10000).message;
        if (answer_) send_frame_with_fd(daemon.get(), *answer_, -1);
      } catch (const std::exception&) {
      }
    });
  }
  ~FakeAdopter() { join(); }
  // Ends its thread (waiting for the exchange in progress).
  void join() {
    ::shutdown(listener_.get(), SHUT_RDWR);
    if (thread_.joinable()) thread_.join();
  }
  // The ADOPT it was sent (after join()).
  [[nodiscard]] const Message& got() const { return got_; }

 private:
  UniqueFd listener_;
  std::optional<Message> answer_;
  Message got_;
  std::thread thread_;
};

TEST_F(Tcpd, FallsBackToTheRelayWithoutLosingAByteWhenTheServiceRefusesTheAdoption) {
  auto ipcd_b = start(b, "ipcd", {"--allow", "in", "pong", "tcp:127.0.0.1"});
  auto tcpd_b = start(b, "tcpd", {"--listen", "127.0.0.1:0"});
  auto pongd = start(b, "pongd", {"--no-adopt"});
  // A failure of the adoption, not a limit of the service's (unavailable: said to the peer).
  FakeAdopter adopter(b / "pong@adopt", Message::error("internal: not now"));
  auto ha = start_a();
  auto c = client(logged_port(tcpd_b));
  c.send(Message::data("through the relay"));
  EXPECT_EQ(c.receive().payload, "through the relay");
  adopter.join();
  EXPECT_EQ(adopter.got().type, MessageType::adopt);
  EXPECT_NE(tcpd_b.log().find("the service refused it: internal: not now; relaying instead"), std::string::npos)
      << tcpd_b.log();
  // Counted once, as what it became.
  EXPECT_EQ(paths(b, "in")["tcp"]["relayed"], 1) << paths(b, "in");
  EXPECT_EQ(paths(b, "in")["tcp"]["handed_over"], 0) << paths(b, "in");
}

TEST_F(Tcpd, SendsTheServiceTheRemotePeersDescriptionAndNeverTouchesAnUnansweredAdoptionAgain) {
  auto ipcd_b = start(b, "ipcd", {"--allow", "in", "pong", "tcp:127.0.0.1"});
  auto tcpd_b = start(b, "tcpd", {"--listen", "127.0.0.1:0"});
  auto pongd = start(b, "pongd", {"--no-adopt"});
  FakeAdopter adopter(b / "pong@adopt", std::nullopt);
  auto ha = start_a();
  auto c = client(logged_port(tcpd_b));
  // The service may have the connection: tcpd lets go of it, and the client sees it end.
  EXPECT_TRUE(closed_within(c.fd(), 20s));
  adopter.join();
  ASSERT_EQ(adopter.got().type, MessageType::adopt);
  const auto adopt = nlohmann::json::parse(adopter.got().payload);
  EXPECT_EQ(adopt["service"], "pong");
  EXPECT_EQ(adopt["scheme"], "tcp");
  EXPECT_EQ(adopt["peer"].get<std::string>().rfind("127.0.0.1:", 0), 0u) << adopt;
  EXPECT_NE(tcpd_b.log().find("no answer to ADOPT"), std::string::npos) << tcpd_b.log();
}

TEST_F(Tcpd, IgnoresAnAdoptionSocketThatIsNotTheServiceOwnersAndRelays) {
  auto ipcd_b = start(b, "ipcd", {"--allow", "in", "pong", "tcp:127.0.0.1"});
  auto tcpd_b = start(b, "tcpd", {"--listen", "127.0.0.1:0"});
  auto pongd = start(b, "pongd", {"--no-adopt"});
  // A local user squats pong@adopt, hoping for pong's remote peers.
  FakeAdopter squatter(b / "pong@adopt", Message::data("ok"));
  ASSERT_EQ(::chown((b / "pong@adopt").c_str(), 65534, 65534), 0);
  auto ha = start_a();
  auto c = client(logged_port(tcpd_b));
  c.send(Message::data("not yours"));
  EXPECT_EQ(c.receive().payload, "not yours");
  EXPECT_NE(ipcd_b.log().find("ignoring " + (b / "pong@adopt").string()), std::string::npos) << ipcd_b.log();
  EXPECT_EQ(paths(b, "in")["tcp"]["relayed"], 1) << paths(b, "in");
}

TEST_F(Tcpd, DeniesInboundByDefaultAndAllowsByRule) {
  {
    auto hb = start_b({});
    auto ha = start_a();
    const auto r = pong(route(hb.port));
    EXPECT_EQ(r.status, 1);
    EXPECT_NE(r.err.find("denied: pong refused to tcp peer 127.0.0.1:"), std::string::npos) << r.err;
  }
  auto hb = start_b({"--allow", "in", "pong", "tcp:127.0.0.0/8", "--deny", "in", "*", "*"});
  auto ha = start_a();
  EXPECT_EQ(pong(route(hb.port)).status, 0);
}

TEST_F(Tcpd, TellsARemotePeerTheCodeAndItsServiceButNotThisHostsPaths) {
  auto hb = start_b({"--allow", "in", "*", "tcp:127.0.0.1"});
  auto ha = start_a();
  const auto r = pong("pong tcp://127.0.0.1:" + std::to_string(hb.port) + "/nosuch");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("not-found: nosuch"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find(b.string()), std::string::npos) << r.err;
  // A raw peer sees the same answer.
  auto raw = tcp_connect(hb.port);
  write_all(raw.get(), encode(Message{MessageType::connect, 0, R"({"version":1,"service":"nosuch"})"}));
  const auto answer = read_until_eof(raw.get());
  EXPECT_NE(answer.find("not-found: nosuch"), std::string::npos) << answer;
  EXPECT_EQ(answer.find('/'), std::string::npos) << answer;
  EXPECT_EQ(pong(route(hb.port)).status, 0);
}

TEST_F(Tcpd, MatchesAnIPv4MappedPeerAsTheIPv4AddressItIs) {
  // An IPv6 listener on the IPv4-mapped loopback: peers arrive as ::ffff:127.0.0.1, as on a
  // dual-stack [::] listener. A rule written for 127.* must meet them, and logs say 127.0.0.1.
  const auto start_mapped_b = [&](std::vector<std::string> ipcd_args) {
    return start_serving_host(b, dir.path(), std::move(ipcd_args), {"--listen", "[::ffff:127.0.0.1]:0"});
  };
  auto ha = start_a();
  {
    auto hb = start_mapped_b({"--deny", "in", "pong", "tcp:127.*", "--allow", "in", "*", "*"});
    EXPECT_NE(hb.tcpd.log().find("listening on 127.0.0.1:"), std::string::npos) << hb.tcpd.log();
    const auto r = pong(route(hb.port));
    EXPECT_EQ(r.status, 1);
    EXPECT_NE(r.err.find("denied: pong refused to tcp peer 127.0.0.1:"), std::string::npos) << r.err;
    EXPECT_EQ(hb.ipcd.log().find("ffff"), std::string::npos) << hb.ipcd.log();
  }
  auto hb = start_mapped_b({"--allow", "in", "pong", "tcp:127.*"});
  EXPECT_EQ(pong(route(hb.port)).status, 0);
}

// A server of another protocol on a free port: it takes one connection, writes `answer` (after
// reading what the caller sent, when `read_first`) and closes it.
class ForeignServer {
 public:
  ForeignServer(std::string answer, bool read_first) : listener_(silent_listener(4, port_)) {
    thread_ = std::thread([this, answer = std::move(answer), read_first] {
      pollfd p{listener_.get(), POLLIN, 0};
      if (::poll(&p, 1, 20000) != 1) return;
      UniqueFd peer(::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC));
      if (!peer) return;
      if (read_first) {
        char buffer[256];
        (void)::recv(peer.get(), buffer, sizeof buffer, 0);
      }
      (void)::send(peer.get(), answer.data(), answer.size(), MSG_NOSIGNAL);
      (void)read_until_eof(peer.get(), 5s);
    });
  }
  ForeignServer(const ForeignServer&) = delete;
  ForeignServer& operator=(const ForeignServer&) = delete;
  ~ForeignServer() { thread_.join(); }
  [[nodiscard]] int port() const noexcept { return port_; }

 private:
  int port_ = 0;
  UniqueFd listener_;
  std::thread thread_;
};

TEST_F(Tcpd, SaysAPortIsNotATcpdAndWhatItSpeaksInstead) {
  auto ha = start_a();
  const std::vector<std::tuple<std::string, bool, std::string>> cases{
      {"SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n", false, "is not a tcpd (it answered like SSH)"},
      {"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n", true, "is not a tcpd (it answered like HTTP)"},
      {std::string("\x15\x03\x03\x00\x02\x02\x46", 7), true, "speaks TLS, not plain tcp://: use tls://127.0.0.1:"},
      {"220 mail.example ESMTP\r\n", false, "is not a tcpd (it answered not the ipc protocol)"},
      {"", true, "closed the connection without answering the remote handshake: it is not a tcpd's plain port"},
  };
  for (const auto& [answer, read_first, says] : cases) {
    ForeignServer server(answer, read_first);
    const std::string where = "127.0.0.1:" + std::to_string(server.port());
    const auto r = pong("pong tcp://" + where + "/pong");
    EXPECT_EQ(r.status, 1) << says;
    EXPECT_NE(r.err.find("refused: " + where + " "), std::string::npos) << r.err;
    EXPECT_NE(r.err.find(says), std::string::npos) << r.err;
  }
  // tcpd serves the next client as before.
  auto hb = start_b({"--allow", "in", "pong", "*"});
  const auto ok = pong("pong tcp://127.0.0.1:" + std::to_string(hb.port) + "/pong");
  EXPECT_EQ(ok.status, 0) << ok.err;
  EXPECT_EQ(ha.tcpd.stop(), 0) << ha.tcpd.log();
}

TEST_F(Tcpd, HoldsOutRulesOnAddressesForEveryNameAndSpellingOfTheHost) {
  // A host whose tcpd would answer anything: nothing may reach it past the rule.
  int port = 0;
  const UniqueFd listener = silent_listener(16, port);
  ASSERT_EQ(::fcntl(listener.get(), F_SETFL, O_NONBLOCK), 0);  // accept answers at once
  const auto reached = [&] {
    UniqueFd peer(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
    return peer.valid();
  };
  // Both loopback blocks: where localhost also resolves to ::1, that one needs its own rule.
  auto ipcd = start(a, "ipcd", {"--deny", "out", "*", "tcp:127.0.0.0/8", "--deny", "out", "*", "tcp:[::1]"});
  auto tcpd = start(a, "tcpd", {"--no-listen"});
  const std::string p = std::to_string(port);
  for (const std::string host : {"localhost", "LOCALHOST", "127.0.0.1", "[::ffff:127.0.0.1]"}) {
    const auto r = pong("pong tcp://" + host + ":" + p + "/pong");
    EXPECT_EQ(r.status, 1) << host;
    EXPECT_NE(r.err.find("denied: pong -> tcp://"), std::string::npos) << host << ": " << r.err;
    EXPECT_TRUE(r.err.find("refused by rule 1: deny out * tcp:127.0.0.0/8") != std::string::npos ||
                r.err.find("refused by rule 2: deny out * tcp:[::1]") != std::string::npos)
        << host << ": " << r.err;
    EXPECT_FALSE(reached()) << host;
  }
  // Numeric forms the resolver would take for 127.0.0.1, and the unspecified address that
  // reaches this host: refused as URIs before anything is asked.
  for (const std::string host : {"0x7f000001", "0x7f.0.0.1", "2130706433", "0.0.0.0", "[::]"}) {
    const auto r = pong("pong tcp://" + host + ":" + p + "/pong");
    EXPECT_EQ(r.status, 1) << host;
    EXPECT_NE(r.err.find("bad-request"), std::string::npos) << host << ": " << r.err;
    EXPECT_FALSE(reached()) << host;
  }
  EXPECT_NE(ipcd.log().find("(localhost is "), std::string::npos) << ipcd.log();
}

TEST_F(Tcpd, ReachesAHostNameThatAnAddressRuleAllowsUnderDefaultOutDeny) {
  auto hb = start_b({"--allow", "in", "pong", "tcp:127.0.0.1"});
  auto ipcd = start(a, "ipcd", {"--default-out", "deny", "--allow", "out", "pong", "tcp:127.0.0.0/8"});
  auto tcpd = start(a, "tcpd", {"--no-listen"});
  const auto r = pong("pong tcp://localhost:" + std::to_string(hb.port) + "/pong", {"-n", "100"});
  EXPECT_EQ(r.status, 0) << r.err << ipcd.log() << tcpd.log();
}

TEST_F(Tcpd, LetsOneRemoteAddressHoldOnlyMaxPerPeerConnections) {
  auto hb = start_b({"--allow", "in", "pong", "tcp:127.0.0.1"}, {"--max-per-peer", "2"});
  auto ha = start_a();
  std::vector<UniqueFd> held;
  for (int i = 0; i < 2; ++i) held.push_back(tcp_connect(hb.port));
  // Both are counted once tcpd has taken them: the third is refused (or, while tcpd has not yet
  // taken one of the two, a later attempt is).
  std::string answer;
  ASSERT_TRUE(wait_until([&] {
    auto third = tcp_connect(hb.port);
    answer = read_until_eof(third.get(), 5s);
    return answer.find("unavailable: 127.0.0.1 already holds 2 connections to this tcpd (--max-per-peer)") !=
           std::string::npos;
  }, 10s)) << answer;
  EXPECT_NE(hb.tcpd.log().find("--max-per-peer"), std::string::npos);
  // One leaves: a client from that address is carried again.
  held.pop_back();
  ASSERT_TRUE(wait_until([&] { return pong(route(hb.port)).status == 0; }, 10s));
}

TEST_F(Tcpd, HoldsMaxPerPeerForHandedOverConnectionsToo) {
  // tcpd keeps nothing of a connection it hands over: the service holds its count for it, and
  // takes one connection more only to tell it so: it is never relayed past the limit.
  auto hb = start_b({"--allow", "in", "pong", "tcp:127.0.0.1"}, {"--max-per-peer", "2"});
  auto ha = start_a();
  std::vector<Client> served;
  std::vector<std::string> refusals;
  for (int i = 0; i < 4; ++i) {
    try {
      Client c = client(hb.port);
      c.send(Message::data("mine"));
      // Past the handshake's ok: the refusal comes as the service's own would, an ERROR frame.
      const Message answer = c.receive();
      if (answer.type == MessageType::error)
        refusals.push_back(answer.payload);
      else if (answer.payload == "mine")
        served.push_back(std::move(c));
    } catch (const Error& e) {
      ADD_FAILURE() << "connection " << i << ": " << e.what();
    }
  }
  EXPECT_EQ(served.size(), 2u);
  ASSERT_EQ(refusals.size(), 2u);
  for (const auto& why : refusals)
    EXPECT_EQ(why, "unavailable: 127.0.0.1 already holds 2 adopted connections to this service (the daemon's "
                   "--max-per-peer)");
  EXPECT_EQ(paths(b, "in")["tcp"]["handed_over"], 4) << paths(b, "in");
  EXPECT_EQ(paths(b, "in")["tcp"].value("relayed", 0), 0) << paths(b, "in");
  // Room again once one has gone.
  served.pop_back();
  ASSERT_TRUE(wait_until([&] {
    try {
      Client c = client(hb.port);
      c.send(Message::data("again"));
      const Message answer = c.receive();
      return answer.type == MessageType::data && answer.payload == "again";
    } catch (const Error&) {
      return false;
    }
  }, 10s));
}

TEST_F(Tcpd, ShowsARemotePeersErrorTextWithItsControlBytesEscaped) {
  // A hostile "remote tcpd" answers the handshake with an ERROR full of terminal escapes.
  int port = 0;
  const UniqueFd listener = silent_listener(4, port);
  std::thread hostile([&] {
    UniqueFd peer(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
    if (!peer) return;
    char buffer[4096];
    (void)::recv(peer.get(), buffer, sizeof buffer, 0);  // the handshake
    write_all(peer.get(), encode(Message::error("denied: \x1b[2J\x1b]0;owned\x07gone")));
  });
  auto ha = start_a();
  const auto r = pong("pong tcp://127.0.0.1:" + std::to_string(port) + "/pong");
  hostile.join();
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err.find('\x1b'), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("denied: \\x1b[2J\\x1b]0;owned\\x07gone"), std::string::npos) << r.err;
  EXPECT_EQ(ha.tcpd.log().find('\x1b'), std::string::npos) << ha.tcpd.log();
  EXPECT_EQ(ha.ipcd.log().find('\x1b'), std::string::npos) << ha.ipcd.log();
}

TEST_F(Tcpd, ReportsARefusedPortWithinTheConnectTimeout) {
  auto ha = start_a({"--no-listen", "--connect-timeout", "3"});
  const auto started = std::chrono::steady_clock::now();
  const auto r = pong(route(closed_port()));
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("refused: 127.0.0.1:"), std::string::npos) << r.err;
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(10));
}

TEST_F(Tcpd, ReportsAnUnresolvableHostAsUnreachable) {
  auto ha = start_a({"--no-listen", "--connect-timeout", "3"});
  // .invalid never resolves (RFC 6761).
  const auto r = pong("pong tcp://no-such-host.invalid:9000/pong");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("unreachable: cannot resolve no-such-host.invalid"), std::string::npos) << r.err;
}

TEST_F(Tcpd, ReportsATimeoutWhenTheRemoteNeverAcceptsWithinTheConnectTimeout) {
  auto ha = start_a({"--no-listen", "--connect-timeout", "1"});
  const auto hole = full_listener();
  const auto started = std::chrono::steady_clock::now();
  const auto r = pong(route(hole.port));
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("timeout: no TCP connection to 127.0.0.1:" + std::to_string(hole.port) + " within 1"),
            std::string::npos)
      << r.err;
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(5));
}

TEST_F(Tcpd, ReportsATimeoutWhenTheRemoteNeverAnswersTheHandshake) {
  auto ha = start_a({"--no-listen", "--handshake-timeout", "1"});
  int port = 0;
  const auto mute = silent_listener(8, port);
  const auto started = std::chrono::steady_clock::now();
  const auto r = pong(route(port));
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("timeout: 127.0.0.1:" + std::to_string(port) + ": the remote handshake did not complete within 1"),
            std::string::npos) << r.err;
  EXPECT_NE(r.err.find("(is it a tcpd?)"), std::string::npos) << r.err;
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(5));
}

TEST_F(Tcpd, RefusesAPasswordOverPlainTcpBeforeConnecting) {
  auto hb = start_b({"--allow", "in", "pong", "tcp:127.0.0.1"});
  auto ha = start_a();
  const auto r = pong("pong tcp://alice:secret@127.0.0.1:" + std::to_string(hb.port) + "/pong");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("bad-request: a password is never sent over plain tcp://"), std::string::npos) << r.err;
  EXPECT_EQ(hb.tcpd.log().find("inbound from"), std::string::npos) << "B was contacted";
}

TEST_F(Tcpd, EndsTheClientWithAnErrorWhenTheRemoteTcpdDies) {
  // B relays (a handed-over connection does not need B's tcpd once it is up).
  auto hb = start_b({"--allow", "in", "pong", "tcp:127.0.0.1"}, {"--no-handoff"});
  auto ha = start_a();
  auto c = client(hb.port);
  c.send(Message::data("before"));
  EXPECT_EQ(c.receive().payload, "before");
  hb.tcpd.signal(SIGKILL);
  hb.tcpd.wait();
  c.set_timeout(std::chrono::seconds(10));
  try {
    c.send(Message::data("after"));
    (void)c.receive();
    FAIL() << "the client got an answer from a dead tcpd";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::unavailable) << e.what();
  }
}

TEST_F(Tcpd, PassesAHalfCloseOnBothWays) {
  auto hb = start_b({"--allow", "in", "pong", "tcp:127.0.0.1"});
  auto ha = start_a();
  auto c = client(hb.port);
  // The client says its last frame and shuts its sending side: the EOF travels A's relay, TCP and
  // B's relay to pongd, which still answers, then ends; its EOF comes back the same way.
  const std::string frame = encode(Message::data(std::string(200000, 'h'), 3));
  write_all(c.fd(), frame);
  ASSERT_EQ(::shutdown(c.fd(), SHUT_WR), 0);
  EXPECT_EQ(read_until_eof(c.fd(), std::chrono::seconds(10)), frame);
}

TEST_F(Tcpd, EndsARelayWhoseClientClosedEvenWhenTheRemoteNeverDoes) {
  // A remote that answers the handshake, then never closes and never sends: after the client
  // has closed, nobody is left to read it, and it must not keep the relay (and its slot).
  int port = 0;
  const UniqueFd listener = silent_listener(16, port);
  std::atomic<bool> saw_eof{false};
  std::atomic<bool> done{false};
  std::thread remote([&] {
    pollfd p{listener.get(), POLLIN, 0};
    if (::poll(&p, 1, 20000) != 1) return;
    UniqueFd peer(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
    try {
      (void)recv_frame_with_fd(peer.get(), default_max_payload, 20000);
      write_all(peer.get(), encode(Message::data("ok")));
      (void)read_until_eof(peer.get(), std::chrono::seconds(20));
      saw_eof = true;
    } catch (const std::exception&) {
    }
    while (!done) std::this_thread::sleep_for(std::chrono::milliseconds(10));  // holds it open
  });
  auto ipcd = start(a, "ipcd");
  auto tcpd = start(a, "tcpd", {"--no-listen", "--no-handoff", "--write-timeout", "1"});
  const long before = fd_count(tcpd.pid());
  {
    auto c = client(port);
    EXPECT_GT(fd_count(tcpd.pid()), before);
  }
  EXPECT_TRUE(wait_until([&] { return saw_eof.load(); }, std::chrono::seconds(10)));  // passed on as EOF
  // (At most as many as before: one it had at start may have been closed since.)
  EXPECT_TRUE(wait_until([&] { return fd_count(tcpd.pid()) <= before; }, std::chrono::seconds(10)))
      << fd_count(tcpd.pid()) << " descriptors, " << before << " before";
  done = true;
  remote.join();
}

TEST_F(Tcpd, EndsAnIdleOutboundRelayAtOnceOnSigterm) {
  auto hb = start_b({"--allow", "in", "pong", "tcp:127.0.0.1"});
  // (Relayed, not handed over: the relay's drain is what is tested.)
  auto ha = start_a({"--no-listen", "--no-handoff", "--drain", "30"});
  auto c = client(hb.port);
  c.send(Message::data("before"));
  EXPECT_EQ(c.receive().payload, "before");
  EXPECT_EQ(ha.tcpd.stop(), 0);
  // Not at the end of the 30 s drain: an outbound relay drains by reading the client no more,
  // so one with nothing in flight ends as soon as the far side has seen the end.
  EXPECT_EQ(ha.tcpd.log().find("after the drain"), std::string::npos) << ha.tcpd.log();
  EXPECT_EQ(read_until_eof(c.fd(), std::chrono::seconds(5)), "");
  // B's side of that connection ended with it (its relay saw the end come through).
  EXPECT_EQ(hb.tcpd.stop(), 0);
  EXPECT_EQ(hb.tcpd.log().find("after the drain"), std::string::npos) << hb.tcpd.log();
}

TEST_F(Tcpd, StopsCleanlyWithManyInboundRelaysOpenClosingThemAfterTheDrain) {
  // The answering tcpd stopped first, with its relays idle and open: they run through the drain
  // and are closed at its end; their coroutines may still be pending when the daemon's objects
  // go (a crash at exit before, found by scripts/bench).
  auto hb = start_b({"--allow", "in", "pong", "tcp:127.0.0.1"}, {"--drain", "0.5", "--no-handoff"});
  auto ha = start_a();
  std::vector<Client> clients;
  for (int i = 0; i < 50; ++i) {
    clients.push_back(client(hb.port));
    clients.back().send(Message::data("idle " + std::to_string(i)));
    EXPECT_EQ(clients.back().receive().payload, "idle " + std::to_string(i));
  }
  EXPECT_EQ(hb.tcpd.stop(), 0) << hb.tcpd.log();
  EXPECT_NE(hb.tcpd.log().find("50 sessions still open after the drain (0.5 s, --drain): closing them"),
            std::string::npos) << hb.tcpd.log();
  for (auto& c : clients) EXPECT_EQ(read_until_eof(c.fd(), std::chrono::seconds(5)), "");
  EXPECT_EQ(ha.tcpd.stop(), 0) << ha.tcpd.log();
}

TEST_F(Tcpd, LetsInFlightRoundTripsFinishWhenBothHostsStop) {
  auto hb = start_b({"--allow", "in", "pong", "tcp:127.0.0.1"});
  auto ha = start_a({"--no-listen", "--no-handoff"});
  constexpr int count = 16;
  std::vector<Client> clients;
  for (int i = 0; i < count; ++i) clients.push_back(client(hb.port));
  RoundTripLoad load(std::move(clients));
  ASSERT_TRUE(wait_until([&] { return load.answered() >= count * 20; }, 30s));
  // Every relaying daemon of both hosts at once, in the middle of the round trips.
  for (Process* p : {&ha.tcpd, &ha.ipcd, &hb.tcpd, &hb.ipcd}) p->signal(SIGTERM);
  for (Process* p : {&ha.tcpd, &ha.ipcd, &hb.tcpd, &hb.ipcd}) EXPECT_EQ(p->wait(), 0) << p->log();
  load.join();
  EXPECT_EQ(load.lost(), 0);
  // Each client learnt of the stop from a refused request, not from a lost answer.
  EXPECT_EQ(load.refused(), count);
  // All of it within the drain: nothing had to be closed at its end.
  EXPECT_EQ(ha.tcpd.log().find("after the drain"), std::string::npos) << ha.tcpd.log();
  EXPECT_EQ(hb.tcpd.log().find("after the drain"), std::string::npos) << hb.tcpd.log();
}

TEST_F(Tcpd, DropsARelayWhoseReaderStoppedAtTheWriteTimeoutAndKeepsASlowOne) {
  auto hb = start_b({"--allow", "in", "pong", "tcp:127.0.0.1"});
  auto ha = start_a({"--no-listen", "--no-handoff", "--write-timeout", "1"});
  // A reader that stopped: it sends and never reads.
  auto stopped = client(hb.port);
  const long before = rss_kib(ha.tcpd.pid());
  send_until_pushed_back(stopped.fd(), encode(Message::data(std::string(64 * 1024, 'x'))), 64 * 1024 * 1024, 10s);
  // A slow reader: a 4 MiB echo taken 64 KiB at a time, with pauses, keeps moving.
  auto slow = client(hb.port);
  const std::string big(4 * 1024 * 1024, 's');
  slow.send(Message::data(big));
  std::string echoed;
  char chunk[64 * 1024];
  const std::size_t whole = ipc::header_size + big.size();
  for (int reads = 0; echoed.size() < whole && reads < 100000; ++reads) {
    const ssize_t n = ::read(slow.fd(), chunk, sizeof chunk);
    if (n <= 0) break;
    echoed.append(chunk, static_cast<std::size_t>(n));
    std::this_thread::sleep_for(20ms);  // the pace of a slow reader, not a synchronisation
  }
  EXPECT_EQ(echoed.size(), whole);
  EXPECT_TRUE(echoed.size() == whole && echoed.compare(ipc::header_size, big.size(), big) == 0);
  ASSERT_TRUE(wait_until([&] { return ha.tcpd.log().find("(--write-timeout)") != std::string::npos; }, 20s))
      << ha.tcpd.log();
  EXPECT_NE(ha.tcpd.log().find("relay: the local side took nothing for 1 s while data waited for it: dropped"),
            std::string::npos) << ha.tcpd.log();
  EXPECT_TRUE(closed_within(stopped.fd(), 10s));
  // What the stopped reader left unread stayed in the kernel's buffers, not in tcpd.
  EXPECT_LT(rss_kib(ha.tcpd.pid()) - before, 32 * 1024);
  // The slow one is still served.
  slow.send(Message::data("still here"));
  EXPECT_EQ(slow.receive().payload, "still here");
}

TEST_F(Tcpd, AtTheCapClosesThePeerSilentLongestToServeANewOne) {
  auto hb = start_b({"--allow", "in", "pong", "tcp:127.0.0.1"}, {"--max-connections", "3"});
  auto ha = start_a();
  // Three peers that connect and never send their handshake take every slot.
  std::vector<UniqueFd> silent;
  for (int i = 0; i < 3; ++i) silent.push_back(tcp_connect(hb.port));
  ASSERT_TRUE(wait_until([&] { return pong(route(hb.port), {"-n", "3"}).status == 0; }, 20s)) << hb.tcpd.log();
  // The one that made room was told why, on plain TCP before anything else.
  // (The oldest goes first: the others are still held, and read only until one is found.)
  bool told = false;
  for (auto& fd : silent) {
    const auto answer = read_until_eof(fd.get(), 2s);
    told = answer.find("unavailable: closed to make room for a new connection: idle for ") != std::string::npos &&
           answer.find("(--max-connections)") != std::string::npos;
    if (told) break;
  }
  EXPECT_TRUE(told) << hb.tcpd.log();
}

TEST_F(Tcpd, DropsGarbageAndStalledHandshakesWhileServingOthers) {
  auto hb = start_b({"--allow", "in", "pong", "tcp:127.0.0.1"}, {"--handshake-timeout", "1"});
  auto ha = start_a();
  // A peer that never finishes its handshake...
  auto stalled = tcp_connect(hb.port);
  write_all(stalled.get(), std::string("\x04\x00\x00", 3));
  // ...peers that send garbage, an oversized header, a hostile service name...
  auto garbage = tcp_connect(hb.port);
  write_all(garbage.get(), encode(Message{MessageType::connect, 0, "not json"}));
  EXPECT_NE(read_until_eof(garbage.get()).find("bad-request: handshake: not valid JSON"), std::string::npos);
  auto huge = tcp_connect(hb.port);
  write_all(huge.get(), std::string("\x04\xff\xff\xff\xff\x00", 6));
  EXPECT_NE(read_until_eof(huge.get()).find("too-large"), std::string::npos);
  auto hostile = tcp_connect(hb.port);
  write_all(hostile.get(), encode(Message{MessageType::connect, 0, R"({"version":1,"service":"../etc"})"}));
  EXPECT_NE(read_until_eof(hostile.get()).find("invalid service name '../etc'"), std::string::npos);
  auto wrong_type = tcp_connect(hb.port);
  write_all(wrong_type.get(), encode(Message::data("hello")));
  EXPECT_NE(read_until_eof(wrong_type.get()).find("bad-request"), std::string::npos);
  // ...and others are served meanwhile.
  EXPECT_EQ(pong(route(hb.port), {"-n", "10"}).status, 0);
  const auto answer = read_until_eof(stalled.get(), std::chrono::seconds(10));
  EXPECT_NE(answer.find("timeout: the handshake did not complete"), std::string::npos) << answer;
  EXPECT_TRUE(hb.tcpd.running());
}

TEST_F(Tcpd, StopsReadingAFastServiceWhenTheClientStopsReading) {
  auto hb = start_b({"--allow", "in", "pong", "tcp:127.0.0.1"});
  // Both sides relayed: their backpressure is what is tested.
  auto ha = start_a({"--no-listen", "--no-handoff"});
  auto c = client(hb.port);
  c.send(Message::data("warm up"));
  (void)c.receive();
  const long before_a = rss_kib(ha.tcpd.pid());
  const long before_b = rss_kib(hb.tcpd.pid());
  // Send 1 MiB frames without ever reading the echoes, until the whole chain is full.
  const std::string frame = encode(Message::data(std::string(1 << 20, 'x')));
  const std::size_t sent = send_until_pushed_back(c.fd(), frame, 512u << 20, std::chrono::seconds(10));
  EXPECT_LT(sent, 512u << 20) << "nothing pushed back";
  const long grown_a = rss_kib(ha.tcpd.pid()) - before_a;
  const long grown_b = rss_kib(hb.tcpd.pid()) - before_b;
  // Each tcpd holds at most a chunk per direction per connection; 8 MiB is generous.
  EXPECT_LT(grown_a, 8 * 1024) << "A's tcpd grew " << grown_a << " KiB after " << (sent >> 20) << " MiB";
  EXPECT_LT(grown_b, 8 * 1024) << "B's tcpd grew " << grown_b << " KiB after " << (sent >> 20) << " MiB";
  EXPECT_TRUE(ha.tcpd.running());
  EXPECT_TRUE(hb.tcpd.running());
}

// Two real network stacks: network namespaces joined by a veth pair, host A's tcpd in one, host
// B's in the other, each with its own address. (Unix sockets bound to paths work across network
// namespaces, so readiness, ipcd and the run directories work as on one host.)
class NetworkNamespaces {
 public:
  NetworkNamespaces() {
    const auto id = std::to_string(::getpid() % 100000);
    const int subnet = static_cast<int>(::getpid() % 200) + 20;
    a_ = "ipc-test-a" + id;
    b_ = "ipc-test-b" + id;
    link_b_ = "vb" + id;
    address_a_ = "10.231." + std::to_string(subnet) + ".1";
    address_b_ = "10.231." + std::to_string(subnet) + ".2";
    ok_ = ip({"netns", "add", a_}) && ip({"netns", "add", b_}) &&
          ip({"link", "add", "va" + id, "type", "veth", "peer", "name", "vb" + id}) &&
          ip({"link", "set", "va" + id, "netns", a_}) && ip({"link", "set", "vb" + id, "netns", b_}) &&
          ip({"-n", a_, "addr", "add", address_a_ + "/24", "dev", "va" + id}) &&
          ip({"-n", b_, "addr", "add", address_b_ + "/24", "dev", "vb" + id}) &&
          ip({"-n", a_, "link", "set", "va" + id, "up"}) && ip({"-n", b_, "link", "set", "vb" + id, "up"}) &&
          ip({"-n", a_, "link", "set", "lo", "up"}) && ip({"-n", b_, "link", "set", "lo", "up"});
  }
  ~NetworkNamespaces() {
    // Deleting a namespace deletes its end of the veth pair, and the pair with it.
    (void)ip({"netns", "del", a_});
    (void)ip({"netns", "del", b_});
  }
  [[nodiscard]] bool ok() const { return ok_; }
  [[nodiscard]] const std::string& a() const { return a_; }
  [[nodiscard]] const std::string& b() const { return b_; }
  [[nodiscard]] const std::string& address_b() const { return address_b_; }
  [[nodiscard]] const std::string& address_a() const { return address_a_; }
  // Host B drops off the network without a word (no FIN, no reset): its end of the link goes down.
  bool cut_b() { return ip({"-n", b_, "link", "set", link_b_, "down"}); }
  static std::filesystem::path ip_program() {
    for (const char* path : {"/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"}) {
      if (::access(path, X_OK) == 0) return path;
    }
    return {};
  }

 private:
  static bool ip(const std::vector<std::string>& args) {
    const auto r = run(ip_program(), args);
    if (r.status != 0) std::cerr << "ip " << args[0] << " " << args[1] << ": " << r.err;
    return r.status == 0;
  }
  std::string a_, b_, address_a_, address_b_, link_b_;
  bool ok_ = false;
};

// Host A's daemons in one network namespace, host B's in the other.
class TcpdAcrossNamespaces : public Tcpd {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "network namespaces need root: skipped";
    if (NetworkNamespaces::ip_program().empty()) GTEST_SKIP() << "the ip command (iproute2) is missing: skipped";
    namespaces.emplace();
    if (!namespaces->ok()) GTEST_SKIP() << "cannot create network namespaces here: skipped";
  }
  // Program NAME in namespace NS on run directory RUNDIR, ready.
  Process in(const std::string& ns, const std::string& name, std::vector<std::string> args,
             const std::filesystem::path& rundir) {
    args.insert(args.begin(), {"netns", "exec", ns, program(name).string(), "--rundir", rundir.string()});
    Process p(NetworkNamespaces::ip_program(), args, dir.path());
    EXPECT_TRUE(p.ready()) << name << " in " << ns << ": " << p.log();
    return p;
  }
  std::optional<NetworkNamespaces> namespaces;
};

TEST_F(TcpdAcrossNamespaces, CarriesPong) {
  auto ipcd_b = in(namespaces->b(), "ipcd", {"--allow", "in", "pong", "tcp:" + namespaces->address_a()}, b);
  auto tcpd_b = in(namespaces->b(), "tcpd", {"--listen", namespaces->address_b() + ":9000"}, b);
  auto pongd_b = in(namespaces->b(), "pongd", {}, b);
  auto ipcd_a = in(namespaces->a(), "ipcd", {}, a);
  auto tcpd_a = in(namespaces->a(), "tcpd", {"--no-listen", "--connect-timeout", "5"}, a);
  const auto r = pong("pong tcp://" + namespaces->address_b() + ":9000/pong", {"-n", "200"});
  EXPECT_EQ(r.status, 0) << r.err << tcpd_a.log() << tcpd_b.log();
  // B's ipcd saw the peer at A's own address, on the other stack.
  EXPECT_NE(ipcd_b.log().find("from tcp peer " + namespaces->address_a() + ":"), std::string::npos) << ipcd_b.log();
  // From host A's stack, B's loopback is not B: nothing listens on A's 127.0.0.1:9000.
  const auto refused = pong("pong tcp://127.0.0.1:9000/pong");
  EXPECT_EQ(refused.status, 1);
  EXPECT_NE(refused.err.find("refused"), std::string::npos) << refused.err;
  // A's stack has no route beyond its /24: an address outside it is unreachable, at once.
  const auto started = std::chrono::steady_clock::now();
  const auto unreachable = pong("pong tcp://198.51.100.7:9000/pong");
  EXPECT_EQ(unreachable.status, 1);
  EXPECT_NE(unreachable.err.find("unreachable: 198.51.100.7:9000"), std::string::npos) << unreachable.err;
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(4));
}

TEST_F(TcpdAcrossNamespaces, TellsTheClientOfAHandedOverConnectionThatItsHostVanishedWithinTheKeepalive) {
  auto ipcd_b = in(namespaces->b(), "ipcd", {"--allow", "in", "pong", "tcp:" + namespaces->address_a()}, b);
  auto tcpd_b = in(namespaces->b(), "tcpd", {"--listen", namespaces->address_b() + ":9000"}, b);
  auto pongd_b = in(namespaces->b(), "pongd", {}, b);
  auto ipcd_a = in(namespaces->a(), "ipcd", {}, a);
  auto tcpd_a = in(namespaces->a(), "tcpd", {"--no-listen", "--keepalive", "1"}, a);
  ConnectOptions options;
  options.rundir = a;
  options.network = "pong tcp://" + namespaces->address_b() + ":9000/pong";
  Client c(ipc::connect(ServiceName("pong"), options));
  c.send(Message::data("before"));
  EXPECT_EQ(c.receive().payload, "before");
  ASSERT_TRUE(namespaces->cut_b());
  // Nobody relays this connection: only the client's kernel can notice, by keepalive (1 s idle,
  // about 2 s in all), long before the client's own 30 s would run out.
  c.set_timeout(30s);
  try {
    (void)c.receive();
    FAIL() << "an answer from a host that is gone";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::unavailable) << e.what();
  }
}

TEST_F(Tcpd, RemovesItsSocketsOnSigterm) {
  auto ha = start_a();
  EXPECT_TRUE(std::filesystem::exists(a / "tcp"));
  EXPECT_EQ(ha.tcpd.stop(), 0);
  EXPECT_FALSE(std::filesystem::exists(a / "tcp"));
  EXPECT_FALSE(std::filesystem::exists(a / "tls"));
}

TEST_F(Tcpd, BadFlagsExitWithStatusTwoAndSayWhy) {
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases{
      {{"--listen", "nowhere"}, "expected HOST:PORT"},
      {{"--listen", "127.0.0.1:99999"}, "the port must be"},
      {{"--listen", "example.com:9000"}, "is not an IP address"},
      {{"--listen", "127.0.0.1:1", "--no-listen"}, "--no-listen excludes"},
      {{"--connect-timeout", "0"}, "--connect-timeout"},
      {{"--max-connections", "0"}, "--max-connections"},
      {{"--bogus"}, "bogus"},
      {{"--listen-tls", "127.0.0.1:0"}, "--listen-tls needs a certificate"},
      {{"--listen-tls", "127.0.0.1:0", "--no-listen"}, "--no-listen excludes"},
      {{"--listen-tls", "nowhere"}, "--listen-tls 'nowhere': expected HOST:PORT"},
      {{"--tls-cert", "/nonexistent.pem"}, "--tls-cert and --tls-key go together"},
      {{"--tls-cert", "/nonexistent.pem", "--tls-key", "/nonexistent.key"}, "cannot load the certificate /nonexistent.pem"},
      {{"--tls-ca", "/nonexistent.pem"}, "cannot load the CA file /nonexistent.pem"},
      {{"--psk", "alice"}, "--psk: expected ID:HEXKEY"},
      {{"--psk", "alice:xyz0"}, "is not hexadecimal"},
      {{"--psk", "alice:00112233"}, "has 4 bytes; it must have 16 to 64"},
      {{"--psk", "a b:00112233445566778899aabbccddeeff"}, "the identity must be"},
      {{"--psk", "al:00112233445566778899aabbccddeeff", "--psk", "al:00112233445566778899aabbccddeeff"}, "given twice"},
      {{"--users", "/nonexistent"}, "--users /nonexistent: cannot be read"},
  };
  for (const auto& [args, says] : cases) {
    const auto r = run(program("tcpd"), args, {{"IPC_RUNDIR", a.string()}});
    EXPECT_EQ(r.status, 2) << args[0] << ": " << r.err;
    EXPECT_NE(r.err.find(says), std::string::npos) << args[0] << ": " << r.err;
  }
}

}  // namespace
}  // namespace ipc::test
