// Unit tests for ipc::canonical_address and ipc::endpoint_text: one spelling per address.
#include <gtest/gtest.h>

#include <ipc/address.hpp>

namespace {

using ipc::canonical_address;

TEST(Address, KeepsDottedDecimalIPv4) {
  EXPECT_EQ(canonical_address("127.0.0.1"), "127.0.0.1");
  EXPECT_EQ(canonical_address("0.0.0.0"), "0.0.0.0");
}

TEST(Address, WritesAnIPv4MappedAddressAsIPv4) {
  EXPECT_EQ(canonical_address("::ffff:127.0.0.1"), "127.0.0.1");
  EXPECT_EQ(canonical_address("::FFFF:7f00:1"), "127.0.0.1");
  EXPECT_EQ(canonical_address("0:0:0:0:0:ffff:192.0.2.7"), "192.0.2.7");
}

TEST(Address, WritesIPv6TheWayInetNtopDoes) {
  EXPECT_EQ(canonical_address("0:0:0:0:0:0:0:1"), "::1");
  EXPECT_EQ(canonical_address("2001:DB8:0:0::1"), "2001:db8::1");
  // IPv4-compatible (deprecated) and NAT64 forms are not IPv4-mapped: they stay IPv6.
  EXPECT_EQ(canonical_address("64:ff9b::7f00:1"), "64:ff9b::7f00:1");
}

TEST(Address, RefusesWhatIsNotAnAddress) {
  for (const char* text : {"", "localhost", "0x7f000001", "0x7f.0.0.1", "127.1", "2130706433", "0177.0.0.1",
                           "[::1]", "::1%lo", "1.2.3.4.5", "256.0.0.1", " 127.0.0.1"}) {
    EXPECT_FALSE(canonical_address(text)) << text;
  }
  EXPECT_FALSE(canonical_address(std::string(100, '1')));
}

TEST(Address, UnmapsAndWritesSocketAddresses) {
  namespace ip = boost::asio::ip;
  EXPECT_EQ(ipc::unmapped(ip::make_address("::ffff:127.0.0.1")), ip::make_address("127.0.0.1"));
  EXPECT_TRUE(ipc::unmapped(ip::make_address("::ffff:0.0.0.0")).is_unspecified());
  EXPECT_EQ(ipc::unmapped(ip::make_address("::1")), ip::make_address("::1"));
  EXPECT_EQ(ipc::canonical_address(ip::make_address("::ffff:192.0.2.7")), "192.0.2.7");
  EXPECT_EQ(ipc::canonical_address(ip::make_address("2001:DB8:0:0::1")), "2001:db8::1");
}

TEST(Address, WritesEndpointsWithTheCanonicalAddress) {
  namespace ip = boost::asio::ip;
  EXPECT_EQ(ipc::endpoint_text({ip::make_address("192.0.2.7"), 9000}), "192.0.2.7:9000");
  EXPECT_EQ(ipc::endpoint_text({ip::make_address("::ffff:127.0.0.1"), 41000}), "127.0.0.1:41000");
  EXPECT_EQ(ipc::endpoint_text({ip::make_address("2001:db8::1"), 80}), "[2001:db8::1]:80");
  EXPECT_EQ(ipc::endpoint_text({ip::make_address("::"), 1}), "[::]:1");
}

}  // namespace
