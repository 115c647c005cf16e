// Unit tests of tcpd's pure parts: the remote handshake (DESIGN §7), ipcd's CONNECT request
// (DESIGN §6) and --listen addresses.
#include <gtest/gtest.h>

#include <ipc/error.hpp>
#include <ipc/message.hpp>
#include <stdexcept>

#include "handshake.hpp"
#include "tcpd.hpp"

namespace ipc::test {
namespace {

TEST(TcpdHandshake, RoundTripsAndRefusesMalformedOnes) {
  const auto frame = tcpd::encode_handshake({ServiceName("pong"), "alice", std::nullopt});
  const auto parsed = tcpd::parse_handshake(frame);
  EXPECT_EQ(parsed.service.str(), "pong");
  EXPECT_EQ(parsed.user, "alice");
  EXPECT_FALSE(parsed.password);
  const std::vector<std::pair<Message, std::string>> bad{
      {Message::data("{}"), "expected a CONNECT frame"},
      {{MessageType::connect, 0, "nope"}, "not valid JSON"},
      {{MessageType::connect, 0, "[1]"}, "expected a JSON object"},
      {{MessageType::connect, 0, R"({"version":2,"service":"pong"})"}, "unsupported version"},
      {{MessageType::connect, 0, R"({"service":"pong"})"}, "unsupported version"},
      {{MessageType::connect, 0, R"({"version":1})"}, "'service' must be a string"},
      {{MessageType::connect, 0, R"({"version":1,"service":"a/b"})"}, "invalid service name 'a/b'"},
      {{MessageType::connect, 0, R"({"version":1,"service":"pong","extra":1})"}, "unknown key 'extra'"},
      {{MessageType::connect, 0, R"({"version":1,"service":"pong","user":5})"}, "'user' must be a string"},
  };
  for (const auto& [message, says] : bad) {
    try {
      (void)tcpd::parse_handshake(message);
      ADD_FAILURE() << message.payload;
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::bad_request);
      EXPECT_NE(std::string(e.what()).find(says), std::string::npos) << e.what();
    }
  }
}

TEST(TcpdListen, ParsesAddressesAndPorts) {
  EXPECT_EQ(tcpd::parse_listen("127.0.0.1:9000").port(), 9000);
  EXPECT_TRUE(tcpd::parse_listen("[::1]:0").address().is_v6());
  EXPECT_EQ(tcpd::parse_listen("localhost:1").address().to_string(), "127.0.0.1");
  for (const char* bad : {"", ":", "127.0.0.1", "127.0.0.1:", "1.2.3.4:65536", "[::1:9000", "host:1", "1.2.3.4:x"})
    EXPECT_THROW((void)tcpd::parse_listen(bad), std::invalid_argument) << bad;
}

TEST(TcpdHandshake, CarriesCredentialsOnlyWhenGiven) {
  const auto bare = tcpd::encode_handshake({ServiceName("pong"), "", std::nullopt});
  EXPECT_EQ(bare.type, MessageType::connect);
  EXPECT_EQ(bare.payload, R"({"service":"pong","version":1})");
  const auto full = tcpd::parse_handshake(tcpd::encode_handshake({ServiceName("db"), "alice", "s3cret"}));
  EXPECT_EQ(full.service.str(), "db");
  EXPECT_EQ(full.user, "alice");
  EXPECT_EQ(full.password, "s3cret");
}

TEST(TcpdHandshake, RefusesAFrameThatIsNotAnObjectOfTheRightShape) {
  for (const char* payload : {"", "null", "\"pong\"", R"({"version":"1","service":"pong"})",
                              R"({"version":1.5,"service":"pong"})", R"({"version":1,"service":""})",
                              R"({"version":1,"service":"pong","password":null})"}) {
    EXPECT_THROW((void)tcpd::parse_handshake({MessageType::connect, 0, payload}), Error) << payload;
  }
}

TEST(TcpdConnectRequest, TakesTheUriAndServiceFromIpcd) {
  const auto request = tcpd::parse_connect_request(
      {MessageType::connect, 0,
       R"({"uri":"tcp://127.0.0.1:9000/pong","service":"pong","client":{"uid":0,"gid":0,"pid":1}})"});
  EXPECT_EQ(request.uri, "tcp://127.0.0.1:9000/pong");
  EXPECT_EQ(request.service, "pong");
  for (const char* payload : {"{}", R"({"uri":5,"service":"pong"})", R"({"uri":"tcp://h/pong"})", "[]", "x"}) {
    try {
      (void)tcpd::parse_connect_request({MessageType::connect, 0, payload});
      ADD_FAILURE() << payload;
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::bad_request) << payload;
    }
  }
  EXPECT_THROW((void)tcpd::parse_connect_request(Message::data("{}")), Error);
}

}  // namespace
}  // namespace ipc::test
