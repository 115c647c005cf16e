// Unit tests for service names (DESIGN §2): 1 to 64 characters of [A-Za-z0-9._-], not "." or "..".
#include <gtest/gtest.h>

#include <ipc/error.hpp>
#include <ipc/service_name.hpp>
#include <string>
#include <string_view>

namespace {

using ipc::ServiceName;

TEST(ServiceName, AcceptsValidNames) {
  const std::string valid[] = {
      "a", "pong", "ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz", "0123456789", "a.b_c-d",
      "...", ".hidden", "-", "_", "ipc", "network", "x..y", std::string(64, 'n'),
  };
  for (const auto& name : valid) {
    EXPECT_TRUE(ServiceName::is_valid(name)) << name;
    EXPECT_EQ(ServiceName::why_invalid(name), "") << name;
    EXPECT_EQ(ServiceName(name).str(), name);
  }
}

TEST(ServiceName, AcceptsEveryAllowedCharacter) {
  const std::string all = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-";
  for (char c : all) EXPECT_TRUE(ServiceName::is_valid(std::string(1, c) + "x")) << c;
}

TEST(ServiceName, RefusesEveryOtherByte) {
  const std::string all = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-";
  for (int b = 0; b < 256; ++b) {
    const char c = static_cast<char>(b);
    if (all.find(c) != std::string::npos) continue;
    EXPECT_FALSE(ServiceName::is_valid(std::string("a") + c + "b")) << "byte " << b;
  }
}

struct Invalid {
  std::string_view name;
  std::string_view reason;  // substring of the message
};

TEST(ServiceName, RefusesInvalidNamesSayingWhy) {
  using namespace std::string_view_literals;
  const std::string too_long(65, 'x');
  const Invalid invalid[] = {
      {"../x", "only A-Z a-z 0-9 . _ - are allowed"},
      {"a/b", "only A-Z a-z 0-9 . _ - are allowed"},
      {"/abs", "only A-Z a-z 0-9 . _ - are allowed"},
      {"", "empty"},
      {too_long, "longer than 64 characters"},
      {"po\0ng"sv, "only A-Z a-z 0-9 . _ - are allowed"},
      {"\0"sv, "only A-Z a-z 0-9 . _ - are allowed"},
      {".", "not allowed"},
      {"..", "not allowed"},
      {"po ng", "only A-Z a-z 0-9 . _ - are allowed"},
      {" pong", "only A-Z a-z 0-9 . _ - are allowed"},
      {"pong\n", "only A-Z a-z 0-9 . _ - are allowed"},
      {"p\xc3\xb6ng", "only A-Z a-z 0-9 . _ - are allowed"},  // UTF-8 "pöng"
      {"\xe2\x82\xac", "only A-Z a-z 0-9 . _ - are allowed"},   // UTF-8 euro sign
      {"a:b", "only A-Z a-z 0-9 . _ - are allowed"},
      {"a;b", "only A-Z a-z 0-9 . _ - are allowed"},
      {"a\\b", "only A-Z a-z 0-9 . _ - are allowed"},
  };
  for (const auto& [name, reason] : invalid) {
    const std::string why = ServiceName::why_invalid(name);
    EXPECT_FALSE(ServiceName::is_valid(name)) << name;
    EXPECT_NE(why.find(reason), std::string::npos) << "name '" << name << "': " << why;
    EXPECT_NE(why.find("invalid service name"), std::string::npos) << why;
  }
}

TEST(ServiceName, ConstructorThrowsBadRequestWithTheReason) {
  using namespace std::string_view_literals;
  const std::string too_long(65, 'x');
  for (std::string_view name : {"../x"sv, "a/b"sv, ""sv, std::string_view(too_long), "a\0b"sv, "."sv, ".."sv,
                                "a b"sv, "\xc3\xa9"sv}) {
    try {
      ServiceName n(name);
      ADD_FAILURE() << "accepted '" << name << "'";
    } catch (const ipc::Error& e) {
      EXPECT_EQ(e.code(), ipc::ErrorCode::bad_request) << name;
      EXPECT_EQ(e.text(), ServiceName::why_invalid(name));
      EXPECT_EQ(std::string(e.what()), "bad-request: " + ServiceName::why_invalid(name));
    }
  }
}

TEST(ServiceName, ShowsControlBytesEscapedInTheMessage) {
  using namespace std::string_view_literals;
  const std::string why = ServiceName::why_invalid("a\0b\n"sv);
  EXPECT_NE(why.find("'a\\x00b\\x0a'"), std::string::npos) << why;
  EXPECT_EQ(why.find('\0'), std::string::npos);
  EXPECT_EQ(why.find('\n'), std::string::npos);
}

TEST(ServiceName, CutsAVeryLongNameInTheMessage) {
  const std::string why = ServiceName::why_invalid(std::string(10000, 'y'));
  EXPECT_LT(why.size(), 200u);
  EXPECT_NE(why.find("..."), std::string::npos);
}

TEST(ServiceName, ComparesByValue) {
  EXPECT_EQ(ServiceName("pong"), ServiceName("pong"));
  EXPECT_NE(ServiceName("pong"), ServiceName("Pong"));
  EXPECT_LT(ServiceName("a"), ServiceName("b"));
}

}  // namespace
