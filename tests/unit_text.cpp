// Unit tests for ipc::printable and the UTF-8 checks (libipc/include/ipc/text.hpp).
#include <gtest/gtest.h>

#include <ipc/text.hpp>
#include <string>

namespace {

using ipc::printable;
using namespace std::string_literals;

TEST(Printable, LeavesPlainTextAndUtf8AsTheyAre) {
  EXPECT_EQ(printable("not-found: pong"), "not-found: pong");
  EXPECT_EQ(printable("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xc4\x81"), "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xc4\x81");
  EXPECT_EQ(printable(""), "");
  EXPECT_EQ(printable("back\\slash"), "back\\slash");
}

TEST(Printable, EscapesC0DelAndC1Controls) {
  EXPECT_EQ(printable("\x1b[31mred"), "\\x1b[31mred");
  EXPECT_EQ(printable("a\tb\nc\rd"), "a\\x09b\\x0ac\\x0dd");
  EXPECT_EQ(printable("\x7f"), "\\x7f");
  EXPECT_EQ(printable("nul\0end"s), "nul\\x00end");
  EXPECT_EQ(printable("\xc2\x9b" "2J"), "\\xc2\\x9b2J");  // U+009B, CSI as UTF-8
  EXPECT_EQ(printable("\xc2\xa0"), "\xc2\xa0");          // U+00A0 is no control
}

TEST(Printable, EscapesEveryByteThatIsNotUtf8) {
  EXPECT_EQ(printable("\x9b" "2J"), "\\x9b2J");       // a bare 8-bit CSI
  EXPECT_EQ(printable("\xc3"), "\\xc3");              // cut short
  EXPECT_EQ(printable("\xc0\xaf"), "\\xc0\\xaf");     // overlong '/'
  EXPECT_EQ(printable("\xed\xa0\x80"), "\\xed\\xa0\\x80");  // a surrogate
  EXPECT_EQ(printable("\xf4\x90\x80\x80"), "\\xf4\\x90\\x80\\x80");  // above U+10FFFF
  EXPECT_EQ(printable("\xff ok"), "\\xff ok");
}

TEST(Utf8, ChecksWholeTexts) {
  EXPECT_TRUE(ipc::is_valid_utf8(""));
  EXPECT_TRUE(ipc::is_valid_utf8("plain"));
  EXPECT_TRUE(ipc::is_valid_utf8("\xf0\x9f\x98\x80"));
  EXPECT_FALSE(ipc::is_valid_utf8("\xf0\x9f\x98"));
  EXPECT_FALSE(ipc::is_valid_utf8("\xe0\x80\x80"));
  EXPECT_EQ(ipc::utf8_sequence_length("a\xe2\x82\xac", 1), 3u);
  EXPECT_EQ(ipc::utf8_sequence_length("a", 1), 0u);
}

}  // namespace
