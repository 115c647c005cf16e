// Unit tests for the protocol error codes (DESIGN §10) and the "code: text" payload.
#include <gtest/gtest.h>

#include <ipc/error.hpp>
#include <string>
#include <utility>

namespace {

using ipc::Error;
using ipc::ErrorCode;

const std::pair<ErrorCode, std::string_view> all_codes[] = {
    {ErrorCode::bad_request, "bad-request"},
    {ErrorCode::not_found, "not-found"},
    {ErrorCode::denied, "denied"},
    {ErrorCode::unreachable, "unreachable"},
    {ErrorCode::refused, "refused"},
    {ErrorCode::timeout, "timeout"},
    {ErrorCode::loop, "loop"},
    {ErrorCode::unsupported_scheme, "unsupported-scheme"},
    {ErrorCode::auth_failed, "auth-failed"},
    {ErrorCode::too_large, "too-large"},
    {ErrorCode::unavailable, "unavailable"},
    {ErrorCode::internal, "internal"},
};

TEST(ErrorCode, HasTheWireNameOfEveryCode) {
  for (const auto& [code, name] : all_codes) EXPECT_EQ(ipc::to_string(code), name);
}

TEST(ErrorCode, ParsesTheWireNameOfEveryCode) {
  for (const auto& [code, name] : all_codes) {
    const auto parsed = ipc::parse_error_code(name);
    ASSERT_TRUE(parsed.has_value()) << name;
    EXPECT_EQ(*parsed, code) << name;
  }
}

TEST(ErrorCode, RefusesUnknownNames) {
  for (std::string_view text : {"", "bad_request", "Bad-Request", "not-found ", " timeout", "nope", "ok"})
    EXPECT_FALSE(ipc::parse_error_code(text).has_value()) << "'" << text << "'";
}

TEST(Error, WhatIsCodeColonText) {
  const Error e(ErrorCode::not_found, "no service answers on /run/ipc/x");
  EXPECT_EQ(e.code(), ErrorCode::not_found);
  EXPECT_EQ(e.text(), "no service answers on /run/ipc/x");
  EXPECT_STREQ(e.what(), "not-found: no service answers on /run/ipc/x");
  EXPECT_EQ(e.payload(), "not-found: no service answers on /run/ipc/x");
}

TEST(Error, IsAStdRuntimeError) {
  try {
    throw Error(ErrorCode::timeout, "slow");
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "timeout: slow");
  }
}

TEST(Error, ReadsAPayloadBack) {
  const Error e = Error::from_payload("not-found: x");
  EXPECT_EQ(e.code(), ErrorCode::not_found);
  EXPECT_EQ(e.text(), "x");
  EXPECT_EQ(e.payload(), "not-found: x");
}

TEST(Error, RoundTripsEveryCodeThroughItsPayload) {
  for (const auto& [code, name] : all_codes) {
    const Error original(code, "some text: with a colon");
    const Error back = Error::from_payload(original.payload());
    EXPECT_EQ(back.code(), code) << name;
    EXPECT_EQ(back.text(), "some text: with a colon") << name;
    EXPECT_EQ(back.payload(), original.payload());
  }
}

TEST(Error, ReadsAPayloadWithoutASpaceAfterTheColon) {
  const Error e = Error::from_payload("denied:by rule 3");
  EXPECT_EQ(e.code(), ErrorCode::denied);
  EXPECT_EQ(e.text(), "by rule 3");
}

TEST(Error, ReadsABareCode) {
  const Error e = Error::from_payload("loop");
  EXPECT_EQ(e.code(), ErrorCode::loop);
  EXPECT_FALSE(e.text().empty());
}

TEST(Error, TurnsAnUnknownCodeIntoInternalKeepingTheWholePayload) {
  for (std::string_view payload : {"weird: thing", "no colon here", "", "Not-Found: x", ": empty code"}) {
    const Error e = Error::from_payload(payload);
    EXPECT_EQ(e.code(), ErrorCode::internal) << payload;
    EXPECT_EQ(e.text(), payload);
    EXPECT_EQ(e.payload(), "internal: " + std::string(payload));
  }
}

// DESIGN §5.2: the legacy client treats a 2-byte answer as "ok", so no ERROR payload may be
// exactly 2 bytes long.
TEST(Error, NeverMakesAPayloadOfExactlyTwoBytes) {
  for (const auto& [code, name] : all_codes) {
    for (const std::string text : {"", "x", "ok"}) {
      const Error e(code, text);
      EXPECT_NE(e.payload().size(), 2u) << "'" << e.payload() << "'";
      EXPECT_GE(e.payload().size(), std::string_view("loop: ").size());
    }
  }
  for (std::string_view payload : {"", "o", "ok", "no", "::", "x: "}) {
    EXPECT_NE(Error::from_payload(payload).payload().size(), 2u) << "'" << payload << "'";
  }
}

TEST(Error, EscapesControlBytesInAPeersText) {
  // ESC [ 2 J clears a terminal; a NUL or BEL has no business in an error either.
  const auto e = Error::from_payload(std::string("denied: \x1b[2Jgone\x07\0", 18));
  EXPECT_EQ(e.code(), ErrorCode::denied);
  EXPECT_EQ(e.text(), "\\x1b[2Jgone\\x07\\x00");
  EXPECT_EQ(Error::from_payload("weird \x1b]0;title\x07").text(), "weird \\x1b]0;title\\x07");
}

}  // namespace
