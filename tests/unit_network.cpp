// Unit tests for IPC_NETWORK parsing (DESIGN §4).
#include <gtest/gtest.h>

#include <cstdlib>
#include <ipc/error.hpp>
#include <ipc/network.hpp>
#include <string>

namespace {

using ipc::NetworkRoutes;
using ipc::ServiceName;

std::string error_of(std::string_view text) {
  try {
    const auto routes = NetworkRoutes::parse(text);
    ADD_FAILURE() << "accepted '" << text << "' with " << routes.routes().size() << " routes";
    return {};
  } catch (const ipc::Error& e) {
    EXPECT_EQ(e.code(), ipc::ErrorCode::bad_request) << e.what();
    return e.text();
  }
}

TEST(Network, ParsesTheExampleOfTheDesign) {
  const auto routes = NetworkRoutes::parse("pong tcp://example.com:9000/pong ;audio ws://media.example.com/audio");
  ASSERT_EQ(routes.routes().size(), 2u);
  EXPECT_FALSE(routes.empty());
  EXPECT_EQ(routes.routes()[0].service.str(), "pong");
  EXPECT_EQ(routes.routes()[0].uri.str(), "tcp://example.com:9000/pong");
  EXPECT_EQ(routes.routes()[1].service.str(), "audio");
  EXPECT_EQ(routes.routes()[1].uri.str(), "ws://media.example.com:80/audio");
}

TEST(Network, FindsRoutedServicesAndMissesOthers) {
  const auto routes = NetworkRoutes::parse("pong tcp://example.com:9000/pong ;audio ws://media.example.com/audio");
  const ipc::Uri* pong = routes.find(ServiceName("pong"));
  ASSERT_NE(pong, nullptr);
  EXPECT_EQ(pong->host(), "example.com");
  EXPECT_EQ(pong->port(), 9000);
  const ipc::Uri* audio = routes.find(ServiceName("audio"));
  ASSERT_NE(audio, nullptr);
  EXPECT_EQ(audio->scheme(), ipc::Scheme::ws);
  EXPECT_EQ(audio->service().str(), "audio");
  EXPECT_EQ(routes.find(ServiceName("video")), nullptr);
  EXPECT_EQ(routes.find(ServiceName("Pong")), nullptr);
  EXPECT_EQ(routes.find(ServiceName("pon")), nullptr);
}

TEST(Network, RoutesToAServiceOfAnotherName) {
  const auto routes = NetworkRoutes::parse("local-pong tls://u:pw@[::1]:9443/pong");
  const ipc::Uri* uri = routes.find(ServiceName("local-pong"));
  ASSERT_NE(uri, nullptr);
  EXPECT_EQ(uri->service().str(), "pong");
  EXPECT_EQ(uri->user(), "u");
  EXPECT_EQ(uri->str(), "tls://u:***@[::1]:9443/pong");
}

TEST(Network, IgnoresWhiteSpaceAroundServiceAndUri) {
  for (std::string_view text : {
           "pong tcp://h/pong;audio ws://h/audio",
           "  pong   tcp://h/pong  ;  audio\tws://h/audio  ",
           "\tpong\ttcp://h/pong\t;\naudio\n ws://h/audio\r\n",
           "pong\r\ntcp://h/pong;audio  \t  ws://h/audio",
       }) {
    SCOPED_TRACE(std::string(text));
    const auto routes = NetworkRoutes::parse(text);
    ASSERT_EQ(routes.routes().size(), 2u);
    EXPECT_EQ(routes.routes()[0].service.str(), "pong");
    EXPECT_EQ(routes.routes()[0].uri.str(), "tcp://h:9000/pong");
    EXPECT_EQ(routes.routes()[1].service.str(), "audio");
    EXPECT_EQ(routes.routes()[1].uri.str(), "ws://h:80/audio");
  }
}

TEST(Network, SkipsEmptyEntriesAndATrailingSemicolon) {
  for (std::string_view text : {"pong tcp://h/pong;", ";pong tcp://h/pong", ";;pong tcp://h/pong;;", " ; pong tcp://h/pong ; ; ",
                                "pong tcp://h/pong;\t;"}) {
    SCOPED_TRACE(std::string(text));
    const auto routes = NetworkRoutes::parse(text);
    ASSERT_EQ(routes.routes().size(), 1u);
    EXPECT_EQ(routes.routes()[0].service.str(), "pong");
  }
}

TEST(Network, ParsesNothingIntoNoRoutes) {
  for (std::string_view text : {"", " ", ";", " ; ;\t;\n"}) {
    const auto routes = NetworkRoutes::parse(text);
    EXPECT_TRUE(routes.empty()) << "'" << text << "'";
    EXPECT_EQ(routes.find(ServiceName("pong")), nullptr);
  }
}

TEST(Network, RefusesAServiceNamedTwice) {
  const std::string why = error_of("pong tcp://a/pong; audio ws://h/audio ;pong tcp://b/pong");
  EXPECT_NE(why.find("IPC_NETWORK entry 3"), std::string::npos) << why;
  EXPECT_NE(why.find("'pong' is routed twice"), std::string::npos) << why;
}

TEST(Network, RefusesAnEntryWithoutUriNamingTheEntry) {
  std::string why = error_of("pong");
  EXPECT_NE(why.find("IPC_NETWORK entry 1: "), std::string::npos) << why;
  EXPECT_NE(why.find("expected 'SERVICE URI'"), std::string::npos) << why;
  why = error_of("pong tcp://h/pong; audio  ");
  EXPECT_NE(why.find("IPC_NETWORK entry 2: expected 'SERVICE URI'"), std::string::npos) << why;
}

TEST(Network, RefusesABadServiceName) {
  std::string why = error_of("../x tcp://h/pong");
  EXPECT_NE(why.find("IPC_NETWORK entry 1: invalid service name '../x'"), std::string::npos) << why;
  why = error_of("a tcp://h/a;p/q tcp://h/pong");
  EXPECT_NE(why.find("IPC_NETWORK entry 2: invalid service name 'p/q'"), std::string::npos) << why;
  why = error_of(std::string(65, 'n') + " tcp://h/pong");
  EXPECT_NE(why.find("longer than 64 characters"), std::string::npos) << why;
}

TEST(Network, RefusesABadUriNamingTheEntry) {
  std::string why = error_of("pong tcp://h/pong;audio http://h/audio");
  EXPECT_NE(why.find("IPC_NETWORK entry 2: invalid URI 'http://h/audio'"), std::string::npos) << why;
  EXPECT_NE(why.find("unknown scheme 'http'"), std::string::npos) << why;
  why = error_of("pong tcp://h:0/pong");
  EXPECT_NE(why.find("IPC_NETWORK entry 1: "), std::string::npos) << why;
  EXPECT_NE(why.find("the port must be a number from 1 to 65535"), std::string::npos) << why;
  // A third word is part of the URI, which then holds a space.
  why = error_of("pong tcp://h/pong extra");
  EXPECT_NE(why.find("white space"), std::string::npos) << why;
}

TEST(Network, RefusesAnOverlongValue) {
  std::string text;
  while (text.size() <= 64 * 1024) text += ";";
  const std::string why = error_of(text);
  EXPECT_NE(why.find("longer than 64 KiB"), std::string::npos) << why;
}

TEST(Network, ReadsTheEnvironment) {
  const char* saved = std::getenv("IPC_NETWORK");
  const std::string old = saved ? saved : "";
  ::setenv("IPC_NETWORK", "pong tcp://example.com/pong", 1);
  const auto routes = NetworkRoutes::from_environment();
  ASSERT_NE(routes.find(ServiceName("pong")), nullptr);
  EXPECT_EQ(routes.find(ServiceName("pong"))->str(), "tcp://example.com:9000/pong");
  ::unsetenv("IPC_NETWORK");
  EXPECT_TRUE(NetworkRoutes::from_environment().empty());
  if (saved) ::setenv("IPC_NETWORK", old.c_str(), 1);
}

}  // namespace
