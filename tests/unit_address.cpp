// Unit tests for ipc::canonical_address and ipc::endpoint_text (one spelling per address), and the
// port and HOST:PORT parsers every flag, rule and request uses.
#include <gtest/gtest.h>

#include <ipc/address.hpp>

namespace {

using ipc::canonical_address;
using ipc::parse_port;
using ipc::split_host_port;

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

TEST(Address, ReadsPortsAsDigitsOnly) {
  EXPECT_EQ(parse_port("1"), 1);
  EXPECT_EQ(parse_port("65535"), 65535);
  EXPECT_EQ(parse_port("0", true), 0);
  for (const char* bad : {"", "0", "65536", "99999", "123456", "12abc", "+80", " 80", "80 ", "-1", "0x50"})
    EXPECT_FALSE(parse_port(bad)) << bad;
}

TEST(Address, SplitsHostAndPort) {
  EXPECT_EQ(split_host_port("1.2.3.4:80").host, "1.2.3.4");
  EXPECT_EQ(split_host_port("[::1]:80").host, "::1");
  EXPECT_EQ(split_host_port("example.org:443").port, 443);
  EXPECT_EQ(split_host_port("[::1]:0", true).port, 0);
  for (const char* bad : {"", ":80", "1.2.3.4", "1.2.3.4:", "::1:80", "[::1:80", "[]:80", "h:0", "h:12abc"})
    EXPECT_THROW((void)split_host_port(bad), std::invalid_argument) << bad;
}

}  // namespace
