// Unit tests for ipc/delegation.hpp and the INBOUND request: ipcd's CONNECT, INBOUND, the address lists,
// and ipc::open_tcp with a fake ipcd on a socket pair and a real listener on loopback.
#include <gtest/gtest.h>
#include <sys/socket.h>

#include <boost/asio/ip/tcp.hpp>
#include <functional>
#include <ipc/adopt.hpp>
#include <ipc/broker.hpp>
#include <ipc/delegation.hpp>
#include <ipc/error.hpp>
#include <optional>

namespace {

namespace asio = ipc::asio;
using namespace std::chrono_literals;
using asio::ip::tcp;
using ipc::Error;
using ipc::ErrorCode;
using ipc::Message;
using ipc::MessageType;

ErrorCode code_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.code();
  }
  ADD_FAILURE() << "no ipc::Error thrown";
  return ErrorCode::internal;
}

TEST(ConnectRequest, RoundTripsTheUriTheClientAndTheCheck) {
  ipc::ConnectRequest request{ipc::Uri::parse("tls://alice:s%40cret@host.example:9443/pong"), {}, true};
  request.client.uid = 1000;
  request.client.gid = 100;
  request.client.pid = 4242;
  const auto parsed = ipc::parse_connect_request(ipc::encode_connect_request(request));
  EXPECT_EQ(parsed.uri, request.uri);
  EXPECT_EQ(parsed.uri.password(), "s@cret");
  EXPECT_EQ(parsed.client.uid, 1000u);
  EXPECT_EQ(parsed.client.gid, 100u);
  EXPECT_EQ(parsed.client.pid, 4242);
  EXPECT_TRUE(parsed.check_addresses);
  request.check_addresses = true;
  EXPECT_EQ(ipc::encode_connect_request(request).payload.find("\"uri\""), std::string::npos)
      << "a daemon that does not know the check must find no uri to connect to";
  request.check_addresses = false;
  const auto plain = ipc::encode_connect_request(request);
  EXPECT_EQ(plain.payload.find("resolve"), std::string::npos) << plain.payload;
  EXPECT_FALSE(ipc::parse_connect_request(plain).check_addresses);
}

TEST(ConnectRequest, TakesTheMinimalForm) {
  const auto parsed = ipc::parse_connect_request({MessageType::connect, 0, R"({"uri":"tcp://127.0.0.1:9000/pong"})"});
  EXPECT_EQ(parsed.uri.str(), "tcp://127.0.0.1:9000/pong");
  EXPECT_FALSE(parsed.check_addresses);
}

TEST(ConnectRequest, RefusesWhatIsNotAWellFormedRequest) {
  for (const char* payload :
       {"", "x", "[]", "{}", "null", R"({"uri":5})", R"({"uri":"tcp://h/pong","service":"other"})",
        R"({"uri":"tcp://h/pong","service":5})", R"({"uri":"pong"})", R"({"uri":"unix:pong"})",
        R"({"uri":"tcp://0.0.0.0/pong"})", R"({"uri":"tcp://0x7f000001/pong"})", R"({"uri":"tcp://h/../x"})",
        R"({"uri":"tcp://h/pong","check-addresses":true})", R"({"uri":"tcp://h/pong","client":[]})",
        R"({"uri":"tcp://h/pong","resolve":"tcp://h/pong"})", R"({"resolve":5})",
        R"({"uri":"tcp://h/pong","client":{"uid":"0"}})", R"({"uri":"tcp://h/pong","extra":1})"}) {
    EXPECT_EQ(code_of([&] { (void)ipc::parse_connect_request({MessageType::connect, 0, payload}); }),
              ErrorCode::bad_request)
        << payload;
  }
  EXPECT_EQ(code_of([] { (void)ipc::parse_connect_request(Message::data(R"({"uri":"tcp://h/pong"})")); }),
            ErrorCode::bad_request);
}

TEST(InboundRequest, RoundTripsEveryField) {
  const ipc::InboundRequest sent{"pong", ipc::Scheme::wss, "[2001:db8::1]:443", "alice", "client.example"};
  const auto got = ipc::parse_inbound_request(ipc::Message{ipc::MessageType::inbound, 0, ipc::encode_inbound_request(sent)});
  EXPECT_EQ(got.service, "pong");
  EXPECT_EQ(got.scheme, ipc::Scheme::wss);
  EXPECT_EQ(got.peer, "[2001:db8::1]:443");
  EXPECT_EQ(got.identity, "alice");
  EXPECT_EQ(got.certificate, "client.example");
  // Unset identity and certificate are left out, and read back empty.
  const auto bare = ipc::encode_inbound_request({"pong", ipc::Scheme::tcp, "1.2.3.4:5", "", ""});
  EXPECT_EQ(bare.find("identity"), std::string::npos) << bare;
  EXPECT_TRUE(ipc::parse_inbound_request(ipc::Message{ipc::MessageType::inbound, 0, bare}).identity.empty());
}

TEST(InboundRequest, RefusesWhatIsNotAWellFormedRequest) {
  const std::vector<std::pair<std::string, std::string>> cases{
      {"not json", "INBOUND: not valid JSON"},
      {"[1]", "INBOUND: expected a JSON object"},
      {R"({"scheme":"tcp"})", "'service' and 'scheme' are required"},
      {R"({"service":"pong"})", "'service' and 'scheme' are required"},
      {R"({"service":"pong","scheme":"unix"})", "unknown scheme 'unix'"},
      {R"({"service":"pong","scheme":"gopher"})", "unknown scheme 'gopher'"},
      {R"({"service":"pong","scheme":"tcp","peer":5})", "'peer' must be a string"},
      {R"({"service":"pong","scheme":"tcp","admin":"yes"})", "unknown key 'admin'"},
      {R"({"service":"pong","scheme":"tcp","adopt":"yes"})", "'adopt' must be true or false"},
      {R"({"service":"pong","scheme":"tcp","replaces_adoption":1})", "'replaces_adoption' must be true or false"},
  };
  for (const auto& [payload, says] : cases) {
    try {
      (void)ipc::parse_inbound_request(ipc::Message{ipc::MessageType::inbound, 0, payload});
      ADD_FAILURE() << payload << " was taken";
    } catch (const ipc::Error& e) {
      EXPECT_EQ(e.code(), ipc::ErrorCode::bad_request) << payload;
      EXPECT_NE(std::string(e.what()).find(says), std::string::npos) << payload << ": " << e.what();
    }
  }
  EXPECT_THROW((void)ipc::parse_inbound_request(ipc::Message::data(R"({"service":"pong","scheme":"tcp"})")), ipc::Error);
}

TEST(InboundRequest, CarriesTheAdoptionFlagsOnlyWhenSet) {
  ipc::InboundRequest sent{"pong", ipc::Scheme::tcp, "1.2.3.4:5", "", ""};
  EXPECT_EQ(ipc::encode_inbound_request(sent).find("adopt"), std::string::npos);
  sent.adopt = true;
  auto got = ipc::parse_inbound_request(ipc::Message{ipc::MessageType::inbound, 0, ipc::encode_inbound_request(sent)});
  EXPECT_TRUE(got.adopt);
  EXPECT_FALSE(got.replaces_adoption);
  sent.adopt = false;
  sent.replaces_adoption = true;
  got = ipc::parse_inbound_request(ipc::Message{ipc::MessageType::inbound, 0, ipc::encode_inbound_request(sent)});
  EXPECT_FALSE(got.adopt);
  EXPECT_TRUE(got.replaces_adoption);
}

TEST(Adopt, RoundTripsThePeersDescription) {
  const ipc::Adoption sent{{"pong", ipc::Scheme::tls, "[2001:db8::1]:443", "alice", "client.example"}, 8, {}, {}};
  const ipc::Message frame = ipc::encode_adopt(sent);
  EXPECT_EQ(frame.type, ipc::MessageType::adopt);
  const ipc::Adoption got = ipc::parse_adopt(frame);
  EXPECT_EQ(got.peer.service, "pong");
  EXPECT_EQ(got.peer.scheme, ipc::Scheme::tls);
  EXPECT_EQ(got.peer.peer, "[2001:db8::1]:443");
  EXPECT_EQ(got.peer.identity, "alice");
  EXPECT_EQ(got.peer.certificate, "client.example");
  EXPECT_EQ(got.max_per_peer, 8u);
  EXPECT_EQ(ipc::adoption_socket_path("/run/ipc", ipc::ServiceName("pong")), std::filesystem::path("/run/ipc/pong@adopt"));
}

TEST(Adopt, CarriesAWebSocketsRequestAndSubprotocol) {
  ipc::Adoption sent{{"pong", ipc::Scheme::ws, "127.0.0.1:5555", "", ""}, 0, {}, {}};
  sent.request = "GET /pong HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n\r\n";
  sent.subprotocol = "ipc.frame";
  const ipc::Adoption got = ipc::parse_adopt(ipc::encode_adopt(sent));
  EXPECT_EQ(got.peer.scheme, ipc::Scheme::ws);
  EXPECT_EQ(got.request, sent.request);
  EXPECT_EQ(got.subprotocol, "ipc.frame");
  sent.subprotocol.clear();  // none: the text mapping, as for ipc.text
  EXPECT_EQ(ipc::parse_adopt(ipc::encode_adopt(sent)).subprotocol, "");
  // Other schemes carry neither.
  const auto tcp = ipc::encode_adopt(ipc::Adoption{{"pong", ipc::Scheme::tcp, "127.0.0.1:5555", "", ""}, 0, {}, {}});
  EXPECT_EQ(tcp.payload.find("request"), std::string::npos);
  EXPECT_EQ(tcp.payload.find("subprotocol"), std::string::npos);
}

TEST(Adopt, RefusesWhatIsNotAWellFormedAdoption) {
  const std::vector<std::pair<std::string, std::string>> cases{
      {"not json", "ADOPT: not valid JSON"},
      {"[1]", "ADOPT: expected a JSON object"},
      {R"({"scheme":"tcp"})", "'service' and 'scheme' are required"},
      {R"({"service":"pong","scheme":"unix"})", "ADOPT: unknown scheme 'unix'"},
      {R"({"service":"pong","scheme":"tcp","identity":["a"]})", "'identity' must be a string"},
      // An INBOUND's flags mean nothing here.
      {R"({"service":"pong","scheme":"tcp","adopt":true})", "ADOPT: unknown key 'adopt'"},
      {R"({"service":"pong","scheme":"tcp","max_per_peer":-1})", "'max_per_peer' must be a whole number"},
      {R"({"service":"pong","scheme":"tcp","max_per_peer":"8"})", "'max_per_peer' must be a whole number"},
      {R"({"service":"pong","scheme":"ws"})", "a ws:// connection needs the 'request'"},
      {R"({"service":"pong","scheme":"ws","request":""})", "a ws:// connection needs the 'request'"},
      {R"({"service":"pong","scheme":"ws","request":7})", "'request' must be a string"},
      {R"({"service":"pong","scheme":"tcp","request":"GET / HTTP/1.1"})", "for ws:// connections only"},
      {R"({"service":"pong","scheme":"tcp","subprotocol":"ipc.text"})", "for ws:// connections only"},
      {R"({"service":"pong","scheme":"ws","request":"GET","subprotocol":"chat"})", "unknown subprotocol 'chat'"},
      {R"({"service":"pong","scheme":"ws","request":"GET","subprotocol":["ipc.text"]})", "'subprotocol' must be a string"},
  };
  for (const auto& [payload, says] : cases) {
    try {
      (void)ipc::parse_adopt(ipc::Message{ipc::MessageType::adopt, 0, payload});
      ADD_FAILURE() << payload << " was taken";
    } catch (const ipc::Error& e) {
      EXPECT_EQ(e.code(), ipc::ErrorCode::bad_request) << payload;
      EXPECT_NE(std::string(e.what()).find(says), std::string::npos) << payload << ": " << e.what();
    }
  }
  EXPECT_THROW((void)ipc::parse_adopt(ipc::Message::data(R"({"service":"pong","scheme":"tcp"})")), ipc::Error);
}

TEST(AddressList, TakesCanonicalAddressesOnly) {
  const auto list = ipc::parse_address_list("addresses", ipc::encode_address_list("addresses", {"127.0.0.1", "::1"}));
  EXPECT_EQ(list, (std::vector<std::string>{"127.0.0.1", "::1"}));
  EXPECT_TRUE(ipc::parse_address_list("allowed", Message::data(R"({"allowed":[]})")).empty());
  for (const char* payload :
       {"", "[]", R"({"allowed":["127.0.0.1"]})", R"({"addresses":"127.0.0.1"})", R"({"addresses":[1]})",
        R"({"addresses":["localhost"]})", R"({"addresses":["::ffff:127.0.0.1"]})", R"({"addresses":["0x7f000001"]})",
        R"({"addresses":["0:0::1"]})", R"({"addresses":[],"more":1})"}) {
    EXPECT_EQ(code_of([&] { (void)ipc::parse_address_list("addresses", Message::data(payload)); }),
              ErrorCode::bad_request)
        << payload;
  }
  std::vector<std::string> many(ipc::max_checked_addresses + 1, "10.0.0.1");
  EXPECT_EQ(code_of([&] { (void)ipc::parse_address_list("addresses", ipc::encode_address_list("addresses", many)); }),
            ErrorCode::bad_request);
  EXPECT_EQ(code_of([] { (void)ipc::parse_address_list("addresses", {MessageType::lookup, 0, R"({"addresses":[]})"}); }),
            ErrorCode::bad_request);
}

// A loopback listener, a fake ipcd on the other end of a socket pair, and ipc::open_tcp between.
class OpenTcp : public ::testing::Test {
 protected:
  OpenTcp() : acceptor_(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
    int fds[2];
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
    daemon_side_.emplace(ipc::UnixSocket(io_, asio::local::stream_protocol(), fds[0]));
    ipcd_side_.emplace(ipc::UnixSocket(io_, asio::local::stream_protocol(), fds[1]));
  }

  [[nodiscard]] std::uint16_t port() const { return acceptor_.local_endpoint().port(); }

  // Runs open_tcp for `uri` (with or without the check) against `ipcd`, the fake ipcd's part.
  // Returns the error it threw, or nullopt when it connected.
  std::optional<Error> open(const std::string& uri, bool check,
                            std::function<asio::awaitable<void>(ipc::Connection&)> ipcd = nullptr) {
    std::optional<Error> failure;
    bool finished = false;
    asio::co_spawn(
        io_,
        [&]() -> asio::awaitable<void> {
          try {
            // A named local, not a temporary in the co_await: GCC 12 destroys those twice.
            const ipc::ConnectRequest request{ipc::Uri::parse(uri), {}, check};
            tcp::socket socket = co_await ipc::open_tcp(*daemon_side_, request, 5s);
            EXPECT_TRUE(socket.is_open());
          } catch (const Error& e) {
            failure = e;
          }
          finished = true;
        },
        asio::detached);
    if (ipcd) asio::co_spawn(io_, ipcd(*ipcd_side_), asio::detached);
    io_.run_for(10s);
    io_.restart();
    EXPECT_TRUE(finished);
    return failure;
  }

  // Did a connection reach the listener?
  bool reached() {
    acceptor_.non_blocking(true);
    boost::system::error_code ec;
    tcp::socket peer(io_);
    acceptor_.accept(peer, ec);
    return !ec;
  }

  asio::io_context io_;
  tcp::acceptor acceptor_;
  std::optional<ipc::Connection> daemon_side_;
  std::optional<ipc::Connection> ipcd_side_;
};

// A fake ipcd that takes the daemon's address list and answers `reply`.
std::function<asio::awaitable<void>(ipc::Connection&)> answering(Message reply) {
  return [reply](ipc::Connection& ipcd) -> asio::awaitable<void> {
    Message request;
    if (co_await ipcd.receive(request, 5s)) co_await ipcd.send(reply);
  };
}

TEST_F(OpenTcp, ConnectsToAHostNameWithoutAskingWhenNotTold) {
  EXPECT_FALSE(open("tcp://localhost:" + std::to_string(port()) + "/pong", false));
  EXPECT_TRUE(reached());
}

TEST_F(OpenTcp, ReportsTheAddressesAndConnectsToAnAllowedOne) {
  std::vector<std::string> reported;
  const auto ipcd = [&](ipc::Connection& connection) -> asio::awaitable<void> {
    Message request;
    if (!co_await connection.receive(request, 5s)) co_return;
    reported = ipc::parse_address_list("addresses", request);
    const std::vector<std::string> allowed{"127.0.0.1"};
    co_await connection.send(ipc::encode_address_list("allowed", allowed));
  };
  const auto failure = open("tcp://LOCALHOST:" + std::to_string(port()) + "/pong", true, ipcd);
  EXPECT_FALSE(failure) << failure->what();
  EXPECT_EQ(reported, std::vector<std::string>{"127.0.0.1"});
  EXPECT_TRUE(reached());
}

TEST_F(OpenTcp, ConnectsNowhereWhenIpcdDenies) {
  const auto failure = open("tcp://localhost:" + std::to_string(port()) + "/pong", true,
                            answering(Message::error("denied: rule 1: deny out * tcp:127.0.0.0/8")));
  ASSERT_TRUE(failure);
  EXPECT_EQ(failure->code(), ErrorCode::denied);
  EXPECT_EQ(failure->text(), "rule 1: deny out * tcp:127.0.0.0/8");
  EXPECT_FALSE(reached());
}

TEST_F(OpenTcp, ConnectsNowhereWhenNoneOfTheAddressesIsAllowed) {
  for (const char* allowed : {R"({"allowed":[]})", R"({"allowed":["10.0.0.1"]})"}) {
    const auto failure = open("tcp://localhost:" + std::to_string(port()) + "/pong", true,
                              answering(Message::data(allowed)));
    ASSERT_TRUE(failure) << allowed;
    EXPECT_EQ(failure->code(), ErrorCode::denied) << allowed;
    EXPECT_FALSE(reached()) << allowed;
  }
}

TEST_F(OpenTcp, AMalformedAnswerFromIpcdIsABadRequestAndConnectsNowhere) {
  const auto failure = open("tcp://localhost:" + std::to_string(port()) + "/pong", true,
                            answering(Message::data("ok")));
  ASSERT_TRUE(failure);
  EXPECT_EQ(failure->code(), ErrorCode::bad_request);
  EXPECT_FALSE(reached());
}

TEST_F(OpenTcp, IpcdGoingAwayDuringTheCheckIsUnavailable) {
  const auto failure = open("tcp://localhost:" + std::to_string(port()) + "/pong", true,
                            [](ipc::Connection& ipcd) -> asio::awaitable<void> {
                              Message request;
                              co_await ipcd.receive(request, 5s);
                              ipcd.close();
                            });
  ASSERT_TRUE(failure);
  EXPECT_EQ(failure->code(), ErrorCode::unavailable);
  EXPECT_FALSE(reached());
}

TEST_F(OpenTcp, AHostThatDoesNotResolveIsUnreachable) {
  // .invalid never resolves (RFC 6761).
  const auto failure = open("tcp://no-such-host.invalid:9000/pong", true);
  ASSERT_TRUE(failure);
  EXPECT_EQ(failure->code(), ErrorCode::unreachable);
  EXPECT_NE(failure->text().find("cannot resolve no-such-host.invalid"), std::string::npos) << failure->text();
}

TEST_F(OpenTcp, AClosedPortIsRefused) {
  const auto closed = port();
  acceptor_.close();
  const auto failure = open("tcp://127.0.0.1:" + std::to_string(closed) + "/pong", false);
  ASSERT_TRUE(failure);
  EXPECT_EQ(failure->code(), ErrorCode::refused);
}

}  // namespace
