// Unit tests of websocketd's pure parts: origin patterns, Host names, static file paths, and the mapping
// between WebSocket messages and libipc frames.
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <ipc/glob.hpp>
#include <ipc/message.hpp>

#include "host_names.hpp"
#include <ipc/ws/mapping.hpp>
#include <ipc/ws/server.hpp>
#include <ipc/ws/budget.hpp>
#include "origin.hpp"
#include "static_path.hpp"
#include "support/harness.hpp"

namespace websocketd {
using ipc::ws::choose_subprotocol;
using ipc::ws::frame_from_message;
using ipc::ws::Subprotocol;
using ipc::ws::is_valid_utf8;
namespace {

boost::asio::ip::address ip(const char* text) { return boost::asio::ip::make_address(text); }

TEST(HostOf, TakesTheHostPartOfAHostHeader) {
  EXPECT_EQ(host_of("Example.ORG:8080"), "example.org");
  EXPECT_EQ(host_of("example.org."), "example.org");
  EXPECT_EQ(host_of("127.0.0.1"), "127.0.0.1");
  EXPECT_EQ(host_of("[::1]:80"), "::1");
  EXPECT_EQ(host_of("[0:0::FFFF:127.0.0.1]"), "127.0.0.1");
  EXPECT_EQ(host_of("localhost:"), "localhost");  // an empty port is allowed (RFC 3986)
  for (const char* bad : {"", ":80", "host:80x", "host:123456", "[::1", "[::1]x", "[1.2.3.4]", "::1:80",
                          "a b", "evil.example/x", "host\r\nX: y", ".", "a..", ".a", "a..b", "..:80"}) {
    EXPECT_EQ(host_of(bad), "") << bad;
  }
}

TEST(HostPolicy, AnswersToItsOwnAddressLocalhostOnLoopbackAndTheMachineName) {
  const HostPolicy policy({}, "box");
  EXPECT_TRUE(policy.allows("127.0.0.1:8080", ip("127.0.0.1")));
  EXPECT_TRUE(policy.allows("127.0.0.1:8080", ip("::ffff:127.0.0.1")));
  EXPECT_TRUE(policy.allows("[::1]:8080", ip("::1")));
  EXPECT_TRUE(policy.allows("localhost:8080", ip("127.0.0.1")));
  EXPECT_TRUE(policy.allows("LOCALHOST.", ip("::1")));
  EXPECT_TRUE(policy.allows("app.localhost", ip("127.0.0.2")));
  EXPECT_TRUE(policy.allows("box:8080", ip("192.0.2.1")));
  EXPECT_TRUE(policy.allows("192.0.2.1", ip("192.0.2.1")));
  // DNS rebinding: a name that is not ours, whatever address it points at.
  EXPECT_FALSE(policy.allows("evil.example:8080", ip("127.0.0.1")));
  EXPECT_FALSE(policy.allows("localhost.evil.example", ip("127.0.0.1")));
  EXPECT_FALSE(policy.allows("evillocalhost", ip("127.0.0.1")));
  // Another address than the one the connection arrived on; localhost off loopback.
  EXPECT_FALSE(policy.allows("127.0.0.2", ip("127.0.0.1")));
  EXPECT_FALSE(policy.allows("10.0.0.1", ip("192.0.2.1")));
  EXPECT_FALSE(policy.allows("localhost", ip("192.0.2.1")));
  // No Host, or a malformed one.
  EXPECT_FALSE(policy.allows("", ip("127.0.0.1")));
  EXPECT_FALSE(policy.allows("127.0.0.1:x", ip("127.0.0.1")));
  EXPECT_FALSE(HostPolicy({}, "").allows("", ip("127.0.0.1")));
}

TEST(HostPolicy, AddsTheConfiguredNamesAndGlobs) {
  const HostPolicy policy({"pong.example.org", "*.ipc.example"}, "");
  EXPECT_TRUE(policy.allows("Pong.Example.org:443", ip("192.0.2.1")));
  EXPECT_TRUE(policy.allows("a.b.ipc.example", ip("192.0.2.1")));
  EXPECT_FALSE(policy.allows("ipc.example", ip("192.0.2.1")));
  EXPECT_FALSE(policy.allows("pong.example.org.evil.example", ip("192.0.2.1")));
  EXPECT_TRUE(HostPolicy({"*"}, "").allows("anything:1", ip("192.0.2.1")));
  EXPECT_TRUE(HostPolicy({"*"}, "").allows("", ip("192.0.2.1")));
}

TEST(OriginPolicy, MatchesGlobsCaseInsensitively) {
  EXPECT_TRUE(ipc::glob_match("https://*.example.org", "https://app.EXAMPLE.org", ipc::Case::insensitive));
  EXPECT_TRUE(ipc::glob_match("http://localhost:80?0", "http://localhost:8080"));
  EXPECT_FALSE(ipc::glob_match("https://*.example.org", "https://example.org.evil.net"));
  EXPECT_FALSE(ipc::glob_match("https://*.example.org", "http://app.example.org"));
  EXPECT_TRUE(ipc::glob_match("*", ""));
}

TEST(OriginPolicy, AllowsOnlyItsOwnPagesByDefault) {
  const OriginPolicy policy;
  EXPECT_TRUE(policy.allows("http://127.0.0.1:8080", "127.0.0.1:8080"));
  EXPECT_FALSE(policy.allows("http://evil.example", "127.0.0.1:8080"));
  EXPECT_FALSE(policy.allows("null", "127.0.0.1:8080"));
}

TEST(OriginPolicy, AllowsClientsThatSendNoOrigin) {
  EXPECT_TRUE(OriginPolicy().allows("", "127.0.0.1:8080"));
  EXPECT_TRUE(OriginPolicy({"https://app.example.org"}).allows("", "127.0.0.1:8080"));
}

TEST(OriginPolicy, MatchesWholeOriginsOrTheirHostAndPort) {
  const OriginPolicy policy({"https://*.example.org", "localhost:*"});
  EXPECT_TRUE(policy.allows("https://app.example.org", "x"));
  EXPECT_TRUE(policy.allows("http://localhost:3000", "x"));
  EXPECT_FALSE(policy.allows("http://app.example.org", "x"));
  EXPECT_FALSE(policy.allows("http://localhost.evil.net:3000", "x"));
  EXPECT_FALSE(policy.allows("null", "x"));
  EXPECT_TRUE(OriginPolicy({"*"}).allows("null", "x"));
}

class StaticPath : public ::testing::Test {
 protected:
  ipc::test::TempDir dir;
  std::filesystem::path root;
  void SetUp() override {
    std::filesystem::create_directories(dir / "www/sub");
    std::ofstream(dir / "www/index.html") << "<p>home</p>";
    std::ofstream(dir / "www/sub/app.js") << "1";
    std::ofstream(dir / "secret.txt") << "secret";
    std::filesystem::create_symlink(dir / "secret.txt", dir / "www/escape.txt");
    std::filesystem::create_symlink(dir.path(), dir / "www/up");
    std::filesystem::create_symlink("sub/app.js", dir / "www/inside.js");
    root = std::filesystem::canonical(dir / "www");
  }
  std::variant<std::filesystem::path, PathRefusal> resolve(std::string_view target) {
    return resolve_static_path(root, target);
  }
};

TEST_F(StaticPath, ServesIndexHtmlForTheRootAndDirectories) {
  EXPECT_EQ(std::get<std::filesystem::path>(resolve("/")), root / "index.html");
  EXPECT_EQ(std::get<std::filesystem::path>(resolve("/index.html?x=1")), root / "index.html");
  EXPECT_EQ(std::get<std::filesystem::path>(resolve("/sub/app.js")), root / "sub/app.js");
  EXPECT_EQ(std::get<std::filesystem::path>(resolve("/s%75b/app.js")), root / "sub/app.js");
  EXPECT_EQ(std::get<PathRefusal>(resolve("/sub/")), PathRefusal::not_found);  // no sub/index.html
}

TEST_F(StaticPath, RefusesDotDotPlainOrEncoded) {
  EXPECT_EQ(std::get<PathRefusal>(resolve("/../secret.txt")), PathRefusal::forbidden);
  EXPECT_EQ(std::get<PathRefusal>(resolve("/sub/../../secret.txt")), PathRefusal::forbidden);
  EXPECT_EQ(std::get<PathRefusal>(resolve("/%2e%2e/secret.txt")), PathRefusal::forbidden);
  EXPECT_EQ(std::get<PathRefusal>(resolve("/sub%2f..%2f..%2fsecret.txt")), PathRefusal::forbidden);
}

TEST_F(StaticPath, RefusesSymlinksThatLeaveTheDirectoryButFollowsThoseInside) {
  EXPECT_EQ(std::get<PathRefusal>(resolve("/escape.txt")), PathRefusal::forbidden);
  EXPECT_EQ(std::get<PathRefusal>(resolve("/up/secret.txt")), PathRefusal::forbidden);
  EXPECT_EQ(std::get<std::filesystem::path>(resolve("/inside.js")), root / "sub/app.js");
}

TEST_F(StaticPath, RefusesMalformedTargetsAndReportsMissingFiles) {
  EXPECT_EQ(std::get<PathRefusal>(resolve("/a%2")), PathRefusal::malformed);
  EXPECT_EQ(std::get<PathRefusal>(resolve("/a%zz")), PathRefusal::malformed);
  EXPECT_EQ(std::get<PathRefusal>(resolve("/a%00b")), PathRefusal::malformed);
  EXPECT_EQ(std::get<PathRefusal>(resolve("index.html")), PathRefusal::malformed);
  EXPECT_EQ(std::get<PathRefusal>(resolve("/nope.html")), PathRefusal::not_found);
}

TEST(StaticFiles, NamesTheContentTypes) {
  EXPECT_EQ(content_type_for("a/index.html"), "text/html; charset=utf-8");
  EXPECT_EQ(content_type_for("app.JS"), "text/javascript; charset=utf-8");
  EXPECT_EQ(content_type_for("x.css"), "text/css; charset=utf-8");
  EXPECT_EQ(content_type_for("logo.svg"), "image/svg+xml");
  EXPECT_EQ(content_type_for("data.bin"), "application/octet-stream");
}

TEST(UpgradeRequest, GoesIntoAdoptAndComesBackTheSame) {
  const std::string bytes =
      "GET /pong?x=1 HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nOrigin: http://127.0.0.1:8080\r\nUpgrade: websocket\r\n"
      "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
      "Sec-WebSocket-Protocol: chat, ipc.text\r\n\r\n";
  std::string why;
  const auto request = ipc::ws::parse_upgrade_request(bytes, why);
  ASSERT_TRUE(request) << why;
  EXPECT_EQ(request->target(), "/pong?x=1");
  EXPECT_EQ((*request)[ipc::ws::http::field::sec_websocket_protocol], "chat, ipc.text");
  EXPECT_EQ(ipc::ws::request_bytes(*request), bytes);
  const auto again = ipc::ws::parse_upgrade_request(ipc::ws::request_bytes(*request), why);
  ASSERT_TRUE(again) << why;
  EXPECT_EQ(ipc::ws::request_bytes(*again), bytes);
}

TEST(UpgradeRequest, RefusesWhatIsNotOneWholeUpgrade) {
  const std::string upgrade = "GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                              "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
  for (const auto& [bytes, says] : std::vector<std::pair<std::string, std::string>>{
           {"", "not whole"},
           {"GET / HTTP/1.1\r\nHost: h", "not whole"},
           {"\x16\x03\x01 binary", "not HTTP"},
           {"GET / HTTP/1.1\r\nHost: h\r\n\r\n", "does not ask for a WebSocket upgrade"},
           {"POST / HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc", "not HTTP"},
           {upgrade + "x", "followed by 1 more bytes"},
           // (Found by tests/fuzz/fuzz_upgrade_request: a chunked body written out again did not parse.)
           {"GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n", "announces a body"},
           {"GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            "Content-Length: 0\r\n\r\n", "announces a body"},
           {"GET / HTTP/1.1\r\nX: " + std::string(ipc::ws::max_request_header, 'x') + "\r\n\r\n", "not HTTP"}}) {
    std::string why;
    EXPECT_FALSE(ipc::ws::parse_upgrade_request(bytes, why)) << bytes.substr(0, 40);
    EXPECT_NE(why.find(says), std::string::npos) << bytes.substr(0, 40) << ": " << why;
  }
}

TEST(Mapping, ChoosesTheFirstSubprotocolItSpeaks) {
  EXPECT_EQ(choose_subprotocol(""), Subprotocol::none);
  EXPECT_EQ(choose_subprotocol("ipc.text"), Subprotocol::text);
  EXPECT_EQ(choose_subprotocol("chat, ipc.frame, ipc.text"), Subprotocol::frame);
  EXPECT_EQ(choose_subprotocol("ipc.text,ipc.frame"), Subprotocol::text);
  EXPECT_EQ(choose_subprotocol("chat, mqtt"), std::nullopt);
}

TEST(Mapping, ValidatesUtf8AsWebSocketTextNeedsIt) {
  EXPECT_TRUE(is_valid_utf8("plain ascii"));
  EXPECT_TRUE(is_valid_utf8("gr\xc3\xbc\xc3\x9f \xe2\x82\xac \xf0\x9f\x98\x80"));
  EXPECT_FALSE(is_valid_utf8("\xff"));
  EXPECT_FALSE(is_valid_utf8("\xc0\xaf"));          // overlong '/'
  EXPECT_FALSE(is_valid_utf8("\xed\xa0\x80"));      // a surrogate
  EXPECT_FALSE(is_valid_utf8("\xf4\x90\x80\x80"));  // above U+10FFFF
  EXPECT_FALSE(is_valid_utf8("\xe2\x82"));          // cut short
}

TEST(Mapping, TakesExactlyOneWholeFramePerMessage) {
  std::string why;
  const auto bytes = ipc::encode(ipc::Message::data("hello", 7));
  const auto frame = frame_from_message(bytes, 1024, why);
  ASSERT_TRUE(frame) << why;
  EXPECT_EQ(*frame, ipc::Message::data("hello", 7));

  EXPECT_FALSE(frame_from_message(bytes.substr(0, 4), 1024, why));
  EXPECT_FALSE(frame_from_message(bytes + "x", 1024, why));
  EXPECT_NE(why.find("exactly one frame"), std::string::npos);
  EXPECT_FALSE(frame_from_message(bytes + bytes, 1024, why));
  EXPECT_FALSE(frame_from_message(bytes, 4, why));
  auto unknown = bytes;
  unknown[0] = 99;
  EXPECT_FALSE(frame_from_message(unknown, 1024, why));
  EXPECT_NE(why.find("unknown message type"), std::string::npos);
}

}  // namespace
}  // namespace websocketd
