// Unit tests for URIs (DESIGN §4): SCHEME://[USER[:PASSWORD]@]HOST[:PORT]/SERVICE,
// unix:///SERVICE, unix:SERVICE and a bare SERVICE.
#include <gtest/gtest.h>

#include <ipc/error.hpp>
#include <ipc/uri.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace {

using ipc::Scheme;
using ipc::Uri;

TEST(Uri, KnowsTheSchemesAndTheirDefaultPorts) {
  EXPECT_EQ(ipc::default_port(Scheme::tcp), 9000);
  EXPECT_EQ(ipc::default_port(Scheme::tls), 9443);
  EXPECT_EQ(ipc::default_port(Scheme::ws), 80);
  EXPECT_EQ(ipc::default_port(Scheme::wss), 443);
  EXPECT_EQ(ipc::default_port(Scheme::unix_socket), 0);
  for (auto s : {Scheme::unix_socket, Scheme::tcp, Scheme::tls, Scheme::ws, Scheme::wss})
    EXPECT_EQ(ipc::parse_scheme(ipc::to_string(s)), s);
  EXPECT_EQ(ipc::to_string(Scheme::unix_socket), "unix");
  EXPECT_FALSE(ipc::parse_scheme("http").has_value());
  EXPECT_FALSE(ipc::parse_scheme("").has_value());
}

struct Valid {
  std::string_view text;
  Scheme scheme;
  std::string_view user;
  std::optional<std::string_view> password;
  std::string_view host;
  bool ipv6;
  std::uint16_t port;
  std::string_view service;
  std::string_view str;  // canonical, password hidden
};

const Valid valid_uris[] = {
    {"tcp://example.com/pong", Scheme::tcp, "", {}, "example.com", false, 9000, "pong", "tcp://example.com:9000/pong"},
    {"tls://example.com/pong", Scheme::tls, "", {}, "example.com", false, 9443, "pong", "tls://example.com:9443/pong"},
    {"ws://media.example.com/audio", Scheme::ws, "", {}, "media.example.com", false, 80, "audio",
     "ws://media.example.com:80/audio"},
    {"wss://example.com/audio", Scheme::wss, "", {}, "example.com", false, 443, "audio", "wss://example.com:443/audio"},
    {"tcp://example.com:9000/pong", Scheme::tcp, "", {}, "example.com", false, 9000, "pong",
     "tcp://example.com:9000/pong"},
    {"tcp://example.com:1/pong", Scheme::tcp, "", {}, "example.com", false, 1, "pong", "tcp://example.com:1/pong"},
    {"tls://h:65535/x", Scheme::tls, "", {}, "h", false, 65535, "x", "tls://h:65535/x"},
    {"ws://h:8080/x", Scheme::ws, "", {}, "h", false, 8080, "x", "ws://h:8080/x"},
    {"wss://h:00443/x", Scheme::wss, "", {}, "h", false, 443, "x", "wss://h:443/x"},
    {"tcp://127.0.0.1/pong", Scheme::tcp, "", {}, "127.0.0.1", false, 9000, "pong", "tcp://127.0.0.1:9000/pong"},
    {"tcp://10.1.2.3:7/pong", Scheme::tcp, "", {}, "10.1.2.3", false, 7, "pong", "tcp://10.1.2.3:7/pong"},
    {"tcp://[::1]:9000/pong", Scheme::tcp, "", {}, "::1", true, 9000, "pong", "tcp://[::1]:9000/pong"},
    {"tcp://[::1]/pong", Scheme::tcp, "", {}, "::1", true, 9000, "pong", "tcp://[::1]:9000/pong"},
    {"wss://[2001:DB8::A]:8443/x", Scheme::wss, "", {}, "2001:db8::a", true, 8443, "x",
     "wss://[2001:db8::a]:8443/x"},
    {"ws://[::ffff:192.0.2.1]/x", Scheme::ws, "", {}, "192.0.2.1", false, 80, "x",
     "ws://192.0.2.1:80/x"},  // IPv4-mapped: the IPv4 address
    {"tcp://Example.COM/pong", Scheme::tcp, "", {}, "example.com", false, 9000, "pong", "tcp://example.com:9000/pong"},
    {"TCP://HOST/Pong", Scheme::tcp, "", {}, "host", false, 9000, "Pong", "tcp://host:9000/Pong"},
    {"tcp://a-b.c0.example/x", Scheme::tcp, "", {}, "a-b.c0.example", false, 9000, "x",
     "tcp://a-b.c0.example:9000/x"},
    {"tcp://localhost/x", Scheme::tcp, "", {}, "localhost", false, 9000, "x", "tcp://localhost:9000/x"},
    {"tcp://alice@example.com/pong", Scheme::tcp, "alice", {}, "example.com", false, 9000, "pong",
     "tcp://alice@example.com:9000/pong"},
    {"tls://alice:s3cret@example.com:9443/pong", Scheme::tls, "alice", "s3cret", "example.com", false, 9443, "pong",
     "tls://alice:***@example.com:9443/pong"},
    {"ws://alice:@h/x", Scheme::ws, "alice", "", "h", false, 80, "x", "ws://alice:***@h:80/x"},
    {"tcp://al%69ce:p%40ss%3Aw%2Fd@h/x", Scheme::tcp, "alice", "p@ss:w/d", "h", false, 9000, "x",
     "tcp://alice:***@h:9000/x"},
    {"tcp://j%C3%B6rg:%25@h/x", Scheme::tcp, "j\xc3\xb6rg", "%", "h", false, 9000, "x",
     "tcp://j%C3%B6rg:***@h:9000/x"},
    {"tcp://a%20b@h/x", Scheme::tcp, "a b", {}, "h", false, 9000, "x", "tcp://a%20b@h:9000/x"},
    {"tcp://u:p@ss@h/x", Scheme::tcp, "u", "p@ss", "h", false, 9000, "x", "tcp://u:***@h:9000/x"},
    {"tcp://u:pw@[::1]:1234/x", Scheme::tcp, "u", "pw", "::1", true, 1234, "x", "tcp://u:***@[::1]:1234/x"},
    {"unix:///pong", Scheme::unix_socket, "", {}, "", false, 0, "pong", "unix:///pong"},
    {"unix:pong", Scheme::unix_socket, "", {}, "", false, 0, "pong", "unix:///pong"},
    {"UNIX:pong", Scheme::unix_socket, "", {}, "", false, 0, "pong", "unix:///pong"},
    {"pong", Scheme::unix_socket, "", {}, "", false, 0, "pong", "unix:///pong"},
    {"a.b_c-D", Scheme::unix_socket, "", {}, "", false, 0, "a.b_c-D", "unix:///a.b_c-D"},
};

TEST(Uri, ParsesEveryFormOfTheDesign) {
  for (const auto& v : valid_uris) {
    SCOPED_TRACE(std::string(v.text));
    Uri uri = Uri(ipc::ServiceName("placeholder"));
    ASSERT_NO_THROW(uri = Uri::parse(v.text));
    EXPECT_EQ(uri.scheme(), v.scheme);
    EXPECT_EQ(uri.is_local(), v.scheme == Scheme::unix_socket);
    EXPECT_EQ(uri.user(), v.user);
    EXPECT_EQ(uri.password().has_value(), v.password.has_value());
    if (v.password && uri.password()) {
      EXPECT_EQ(*uri.password(), *v.password);
    }
    EXPECT_EQ(uri.host(), v.host);
    EXPECT_EQ(uri.host_is_ipv6(), v.ipv6);
    EXPECT_EQ(uri.port(), v.port);
    EXPECT_EQ(uri.service().str(), v.service);
    EXPECT_EQ(uri.str(), v.str);
  }
}

TEST(Uri, SpellsEachAddressOneWay) {
  // IPv4-mapped IPv6 is the IPv4 address; other IPv6 as inet_ntop writes it.
  auto uri = Uri::parse("tcp://[::ffff:127.0.0.1]:9000/pong");
  EXPECT_EQ(uri.host(), "127.0.0.1");
  EXPECT_FALSE(uri.host_is_ipv6());
  EXPECT_EQ(uri.str(), "tcp://127.0.0.1:9000/pong");
  uri = Uri::parse("tcp://[0:0:0:0:0:0:0:1]/pong");
  EXPECT_EQ(uri.host(), "::1");
  EXPECT_TRUE(uri.host_is_ipv6());
  EXPECT_EQ(Uri::parse("tcp://[2001:DB8::0:1]/pong").host(), "2001:db8::1");
}

TEST(Uri, RoundTripsTheFormWithSecretsThroughParse) {
  for (const auto& v : valid_uris) {
    SCOPED_TRACE(std::string(v.text));
    const Uri uri = Uri::parse(v.text);
    const Uri back = Uri::parse(uri.str_with_secrets());
    EXPECT_EQ(back, uri);
    EXPECT_EQ(back.str_with_secrets(), uri.str_with_secrets());
    EXPECT_EQ(back.str(), uri.str());
    // The hidden form parses too (as a password of "***"), to the same place.
    const Uri shown = Uri::parse(uri.str());
    EXPECT_EQ(shown.authority(), uri.authority());
    EXPECT_EQ(shown.service(), uri.service());
  }
}

TEST(Uri, RefusesAUriWhoseCanonicalFormWouldBeOverTheLimit) {
  // (Found by tests/fuzz/fuzz_network: raw bytes in the user name are written out as %XX, three
  // times as long, and the canonical form must parse again.)
  const std::string user(700, '\xff');
  try {
    (void)Uri::parse("tcp://" + user + "@host.example:1/pong");
    ADD_FAILURE() << "taken";
  } catch (const ipc::Error& e) {
    EXPECT_NE(std::string(e.what()).find("characters written out in full"), std::string::npos)
        << e.what();
  }
  const auto fits = Uri::parse("tcp://" + std::string(600, '\xff') + "@host.example:1/pong");
  EXPECT_EQ(Uri::parse(fits.str_with_secrets()), fits);
  // The port the canonical form adds counts too.
  const std::string no_port = "tcp://" + std::string(Uri::max_length - 13, 'u') + "@h/x";
  ASSERT_EQ(no_port.size(), Uri::max_length - 3);
  EXPECT_THROW((void)Uri::parse(no_port), ipc::Error);
}

TEST(Uri, ShowsThePasswordOnlyWithSecrets) {
  const Uri uri = Uri::parse("tls://alice:p%40ss%3Aw%2Fd@example.com/pong");
  EXPECT_EQ(uri.str(), "tls://alice:***@example.com:9443/pong");
  EXPECT_EQ(uri.str().find("ss"), std::string::npos);
  EXPECT_EQ(uri.str_with_secrets(), "tls://alice:p%40ss%3Aw%2Fd@example.com:9443/pong");
}

TEST(Uri, WritesTheAuthorityWithThePort) {
  EXPECT_EQ(Uri::parse("tcp://example.com/pong").authority(), "example.com:9000");
  EXPECT_EQ(Uri::parse("ws://[::1]/pong").authority(), "[::1]:80");
  EXPECT_EQ(Uri::parse("tcp://1.2.3.4:5/pong").authority(), "1.2.3.4:5");
}

TEST(Uri, BuildsALocalUriFromAServiceName) {
  const Uri uri(ipc::ServiceName("pong"));
  EXPECT_TRUE(uri.is_local());
  EXPECT_EQ(uri.str(), "unix:///pong");
  EXPECT_EQ(uri, Uri::parse("pong"));
  EXPECT_EQ(uri, Uri::parse("unix:///pong"));
  EXPECT_EQ(uri, Uri::parse("unix:pong"));
}

TEST(Uri, ComparesAllParts) {
  EXPECT_NE(Uri::parse("tcp://h/x"), Uri::parse("tls://h/x"));
  EXPECT_NE(Uri::parse("tcp://h/x"), Uri::parse("tcp://h:1/x"));
  EXPECT_NE(Uri::parse("tcp://h/x"), Uri::parse("tcp://h/y"));
  EXPECT_NE(Uri::parse("tcp://u@h/x"), Uri::parse("tcp://h/x"));
  EXPECT_NE(Uri::parse("tcp://u:a@h/x"), Uri::parse("tcp://u:b@h/x"));
  EXPECT_EQ(Uri::parse("tcp://H/x"), Uri::parse("tcp://h:9000/x"));
}

TEST(Uri, AcceptsTheLongestAllowedText) {
  const std::string prefix = "tcp://";
  const std::string suffix = "@h:9000/x";  // (in full: the canonical form writes the port)
  const std::string uri = prefix + std::string(Uri::max_length - prefix.size() - suffix.size(), 'u') + suffix;
  ASSERT_EQ(uri.size(), Uri::max_length);
  EXPECT_EQ(Uri::parse(uri).user().size(), Uri::max_length - prefix.size() - suffix.size());
}

struct Invalid {
  std::string text;
  std::string_view reason;  // substring of the message
};

TEST(Uri, RefusesInvalidUrisSayingWhy) {
  using namespace std::string_literals;
  const Invalid invalid[] = {
      {"", "empty"},
      {"!!garbage!!", "only A-Z a-z 0-9 . _ - are allowed"},
      {"::::", "expected SCHEME://HOST/SERVICE, unix:SERVICE or SERVICE"},
      {"http://example.com/pong", "unknown scheme 'http'"},
      {"tcp:pong", "expected SCHEME://HOST/SERVICE, unix:SERVICE or SERVICE"},
      {"://h/x", "unknown scheme ''"},
      {"tcp://example.com", "missing '/SERVICE'"},
      {"tcp://example.com/", "empty"},
      {"tcp://example.com/a/b", "without '/'"},
      {"tcp://example.com/../x", "without '/'"},
      {"tcp://example.com/..", "not allowed"},
      {"tcp://example.com/.", "not allowed"},
      {"../x", "only A-Z a-z 0-9 . _ - are allowed"},
      {"unix:../x", "only A-Z a-z 0-9 . _ - are allowed"},
      {"unix:///../x", "without '/'"},
      {"unix:///..", "not allowed"},
      {"unix:", "empty"},
      {"unix:///", "empty"},
      {"tcp:///pong", "missing host"},
      {"tcp://:9000/pong", "missing host"},
      {"tcp://u@/pong", "missing host"},
      {"tcp://@h/pong", "empty user name"},
      {"tcp://:pw@h/pong", "empty user name"},
      {"tcp://h:0/pong", "the port must be a number from 1 to 65535"},
      {"tcp://h:65536/pong", "the port must be a number from 1 to 65535"},
      {"tcp://h:99999/pong", "the port must be a number from 1 to 65535"},
      {"tcp://h:123456/pong", "the port must be a number from 1 to 65535"},
      {"tcp://h:abc/pong", "the port must be a number from 1 to 65535"},
      {"tcp://h:/pong", "the port must be a number from 1 to 65535"},
      {"tcp://h:-1/pong", "the port must be a number from 1 to 65535"},
      {"tcp://h:+80/pong", "the port must be a number from 1 to 65535"},
      {"tcp://[::1]:0/pong", "the port must be a number from 1 to 65535"},
      {"tcp://[::1]:/pong", "the port must be a number from 1 to 65535"},
      {"tcp://::1/pong", "must be written in brackets"},
      {"tcp://0x7f000001/pong", "another form than dotted decimal: write it as 127.0.0.1"},
      {"tcp://0.0.0.0:9000/pong", "'0.0.0.0' is the unspecified address, not one to connect to (for this host write 127.0.0.1)"},
      {"ws://[::]/pong", "'::' is the unspecified address, not one to connect to (for this host write [::1])"},
      {"tcp://[::ffff:0.0.0.0]/pong", "'0.0.0.0' is the unspecified address"},
      {"tcp://0x7f.0.0.1:9000/pong", "another form than dotted decimal: write it as 127.0.0.1"},
      {"tcp://0X7F.1/pong", "another form than dotted decimal: write it as 127.0.0.1"},
      {"tcp://::1:9000/pong", "must be written in brackets"},
      {"tcp://2001:db8::1/pong", "must be written in brackets"},
      {"tcp://[::g]/pong", "is not an IPv6 address"},
      {"tcp://[1.2.3.4]/pong", "is not an IPv6 address"},
      {"tcp://[]/pong", "is not an IPv6 address"},
      {"tcp://[fe80::1%25eth0]/pong", "is not an IPv6 address"},
      {"tcp://[::1/pong", "missing ']'"},
      {"tcp://[::1]x/pong", "unexpected characters after ']'"},
      {"tcp://999.1.1.1/pong", "is not an IPv4 address"},
      {"tcp://1.2.3/pong", "is not an IPv4 address"},
      {"tcp://1.2.3.4.5/pong", "is not an IPv4 address"},
      {"tcp://256.0.0.1/pong", "is not an IPv4 address"},
      {"tcp://my_host/pong", "is not a valid host name"},
      {"tcp://-host/pong", "is not a valid host name"},
      {"tcp://host-/pong", "is not a valid host name"},
      {"tcp://a..b/pong", "is not a valid host name"},
      {"tcp://.a/pong", "is not a valid host name"},
      {"tcp://a.-b/pong", "is not a valid host name"},
      {"tcp://h\xc3\xb6st/pong", "is not a valid host name"},
      {"tcp://" + std::string(64, 'a') + ".com/pong", "is not a valid host name"},
      {"tcp://h%41/pong", "is not a valid host name"},
      {"tcp://exa mple.com/pong", "white space or control characters"},
      {" pong", "white space or control characters"},
      {"pong ", "white space or control characters"},
      {"tcp://h/po\tng", "white space or control characters"},
      {"tcp://h/pong\n", "white space or control characters"},
      {"tcp://h/pong\r", "white space or control characters"},
      {"tcp://h/po\x7fng", "white space or control characters"},
      {"tcp://h/po\0ng"s, "white space or control characters"},
      {"tcp://u" + std::string(Uri::max_length, 'u') + "@h/x", "longer than 2048 characters"},
      {std::string(Uri::max_length + 1, 'p'), "longer than 2048 characters"},
      {"unix://host/x", "unix URIs have no host"},
      {"unix://localhost/pong", "unix URIs have no host"},
      {"tcp://u%@h/x", "bad percent escape in the user name"},
      {"tcp://u%4@h/x", "bad percent escape in the user name"},
      {"tcp://u%zz@h/x", "bad percent escape in the user name"},
      {"tcp://u%4g@h/x", "bad percent escape in the user name"},
      {"tcp://u:p%@h/x", "bad percent escape in the password"},
      {"tcp://u:p%2@h/x", "bad percent escape in the password"},
      {"tcp://u:%xy@h/x", "bad percent escape in the password"},
      {"tcp://u%00@h/x", "NUL byte in the user name"},
      {"tcp://u:%00@h/x", "NUL byte in the password"},
  };
  for (const auto& [text, reason] : invalid) {
    SCOPED_TRACE("URI '" + text + "'");
    try {
      const Uri uri = Uri::parse(text);
      ADD_FAILURE() << "accepted as " << uri.str_with_secrets();
    } catch (const ipc::Error& e) {
      EXPECT_EQ(e.code(), ipc::ErrorCode::bad_request);
      EXPECT_NE(e.text().find(reason), std::string::npos) << e.what();
      EXPECT_EQ(e.text().rfind("invalid URI '", 0), 0u) << e.what();
    }
  }
}

TEST(Uri, SaysHowToWriteUserAtPasswordColonHostWithoutRepeatingThePassword) {
  // The first README's spelling: USER@PASSWORD:HOST:PORT.
  try {
    (void)Uri::parse("tls://user@passwd:example.com:9000/authd");
    ADD_FAILURE() << "accepted";
  } catch (const ipc::Error& e) {
    EXPECT_EQ(e.code(), ipc::ErrorCode::bad_request);
    EXPECT_NE(e.text().find("USER@PASSWORD:HOST:PORT is not how a password is given; write USER:PASSWORD@HOST:PORT"),
              std::string::npos) << e.what();
    EXPECT_EQ(e.text().find("passwd"), std::string::npos) << e.what();
  }
  // The right spelling, and addresses that only look alike, are what they always were.
  const auto right = Uri::parse("tls://user:passwd@example.com:9000/authd");
  EXPECT_EQ(right.user(), "user");
  EXPECT_EQ(right.host(), "example.com");
  for (const std::string text : {"tcp://alice@fe80::1:9000/pong", "tcp://alice@::1:9000/pong", "tcp://a:b@h:1:2/pong"}) {
    try {
      (void)Uri::parse(text);
      ADD_FAILURE() << text << " accepted";
    } catch (const ipc::Error& e) {
      EXPECT_NE(e.text().find("an IPv6 address must be written in brackets"), std::string::npos) << e.what();
    }
  }
}

TEST(Uri, NeverEchoesControlCharactersOrHugeTextInItsErrors) {
  using namespace std::string_literals;
  for (const std::string& text : {"tcp://h/a\nb"s, "tcp://h/a\0b"s, "\x1b[31mred"s, std::string(5000, 'x')}) {
    try {
      (void)Uri::parse(text);
      ADD_FAILURE() << "accepted";
    } catch (const ipc::Error& e) {
      const std::string msg = e.what();
      EXPECT_LT(msg.size(), 400u);
      for (char c : msg) EXPECT_GE(static_cast<unsigned char>(c), 0x20) << msg;
    }
  }
}

}  // namespace
