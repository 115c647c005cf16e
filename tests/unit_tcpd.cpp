// Unit tests of tcpd's pure parts: the remote handshake (DESIGN §7), ipcd's CONNECT request
// (DESIGN §6), --listen addresses, pre-shared keys and the users file (DESIGN §14).
#include <gtest/gtest.h>
#include <unistd.h>

#include <ipc/address.hpp>

#include <ipc/error.hpp>
#include <ipc/message.hpp>
#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "credentials.hpp"
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

TEST(Listen, ParsesAddressesAndPorts) {
  EXPECT_EQ(ipc::parse_listen("127.0.0.1:9000").port(), 9000);
  EXPECT_TRUE(ipc::parse_listen("[::1]:0").address().is_v6());
  EXPECT_EQ(ipc::parse_listen("localhost:1").address().to_string(), "127.0.0.1");
  for (const char* bad : {"", ":", "127.0.0.1", "127.0.0.1:", "1.2.3.4:65536", "[::1:9000", "host:1", "1.2.3.4:x", "1.2.3.4:12abc", "::1:80", "[]:80", "1.2.3.4:+80"})
    EXPECT_THROW((void)ipc::parse_listen(bad), std::invalid_argument) << bad;
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

}  // namespace
}  // namespace ipc::test

TEST(Handshake, TellsAnswersInOtherProtocolsFromTheirFirstBytes) {
  const auto of = [](std::string_view bytes) {
    return tcpd::foreign_protocol({reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()});
  };
  EXPECT_EQ(of("SSH-2."), "SSH");
  EXPECT_EQ(of("HTTP/1"), "HTTP");
  EXPECT_EQ(of(std::string_view("\x15\x03\x03\x00\x02\x02", 6)), "TLS");  // an alert
  EXPECT_EQ(of(std::string_view("\x16\x03\x01\x00\x50\x01", 6)), "TLS");  // a handshake record
  EXPECT_EQ(of("GET / "), "not the ipc protocol");
  EXPECT_EQ(of(std::string_view("\x08\x00\x00\x00\x00\x00", 6)), "not the ipc protocol");
  // Frame headers: DATA "ok", an ERROR, even one as long as an alert's first bytes would be.
  EXPECT_EQ(of(std::string_view("\x02\x00\x00\x00\x02\x00", 6)), std::nullopt);
  EXPECT_EQ(of(std::string_view("\x01\x00\x00\x00\x30\x00", 6)), std::nullopt);
  EXPECT_EQ(of(std::string_view("\x07\x03\x03\x00\x02\x02", 6)), std::nullopt);
  EXPECT_EQ(of(""), std::nullopt);
}

// --- credentials: --psk, --users, --hash-password ------------------------------------------------

namespace tcpd {
namespace {

TEST(PskKeys, TakeIdentitiesWithKeysOfSixteenToSixtyFourBytes) {
  PskKeys keys;
  keys.add("alice:00112233445566778899AABBCCDDEEFF");
  keys.add("node-7.example:" + std::string(128, 'a'));
  ASSERT_NE(keys.find("alice"), nullptr);
  EXPECT_EQ(keys.find("alice")->size(), 16u);
  EXPECT_EQ((*keys.find("alice"))[15], 0xff);
  EXPECT_EQ(keys.find("node-7.example")->size(), 64u);
  EXPECT_EQ(keys.find("bob"), nullptr);
  EXPECT_EQ(keys.find("Alice"), nullptr);
}

TEST(PskKeys, RefuseMalformedFlagsSayingWhy) {
  const std::vector<std::pair<std::string, std::string>> cases{
      {"alice", "expected ID:HEXKEY"},
      {":00112233445566778899aabbccddeeff", "the identity must be"},
      {"al ice:00112233445566778899aabbccddeeff", "the identity must be"},
      {std::string(129, 'a') + ":00112233445566778899aabbccddeeff", "the identity must be"},
      {"alice:0011223344556677889", "is not hexadecimal"},
      {"alice:0011223344556677889g", "is not hexadecimal"},
      {"alice:00112233445566778899aabbccddee", "has 15 bytes"},
      {"alice:" + std::string(130, '0'), "has 65 bytes"},
      {"alice:", "has 0 bytes"},
  };
  for (const auto& [flag, says] : cases) {
    PskKeys keys;
    try {
      keys.add(flag);
      ADD_FAILURE() << flag << " was taken";
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find(says), std::string::npos) << flag << ": " << e.what();
    }
  }
  PskKeys twice;
  twice.add("alice:00112233445566778899aabbccddeeff");
  EXPECT_THROW(twice.add("alice:ffeeddccbbaa99887766554433221100"), std::invalid_argument);
}

TEST(PskKeys, TakeAFileOfOneKeyALineWithCommentsAndBlankLines) {
  PskKeys keys;
  keys.add_lines("# the hosts that may call\n\n  alice:00112233445566778899aabbccddeeff  \r\n\t# bob left\n"
                 "carol:" + std::string(64, 'f') + "\n",
                 "keys");
  ASSERT_NE(keys.find("alice"), nullptr);
  EXPECT_EQ(keys.find("alice")->size(), 16u);
  ASSERT_NE(keys.find("carol"), nullptr);
  EXPECT_EQ(keys.find("carol")->size(), 32u);
  EXPECT_EQ(keys.find("bob"), nullptr);
  PskKeys none;
  none.add_lines("# nothing yet\n", "keys");
  EXPECT_TRUE(none.empty());
}

TEST(PskKeys, RefuseABadFileLineNamingItAndNeverQuotingAKey) {
  const std::vector<std::pair<std::string, std::string>> cases{
      {"alice:00112233445566778899aabbccddeeff\nbob 0011\n", "keys:2: expected ID:HEXKEY"},
      {"#\n\nalice:00112233445566778899aabbccddeeZZ\n", "keys:3: the key of 'alice' is not hexadecimal"},
      {"alice:00112233445566778899aabbccddeeff\nalice:00112233445566778899aabbccddeeff\n",
       "keys:2: the identity 'alice' is given twice"},
      {"alice:0011\n", "keys:1: the key of 'alice' has 2 bytes"},
  };
  for (const auto& [text, says] : cases) {
    PskKeys keys;
    try {
      keys.add_lines(text, "keys");
      ADD_FAILURE() << text << " was taken";
    } catch (const std::invalid_argument& e) {
      EXPECT_EQ(std::string(e.what()).rfind(says, 0), 0u) << text << ": " << e.what();
      EXPECT_EQ(std::string(e.what()).find("0011"), std::string::npos) << e.what();
    }
  }
}

TEST(PskKeys, LoadAFileOnlyItsOwnerHasPermissionsOn) {
  const auto dir = std::filesystem::temp_directory_path() / ("psk-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto file = dir / "keys";
  std::ofstream(file) << "alice:00112233445566778899aabbccddeeff\n";
  std::filesystem::permissions(file, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  PskKeys keys;
  keys.load(file);
  EXPECT_NE(keys.find("alice"), nullptr);
  for (const auto& [mode, shown] : std::vector<std::pair<unsigned, std::string>>{{0640, "0640"}, {0604, "0604"}, {0620, "0620"}, {0400 | 01, "0401"}}) {
    std::filesystem::permissions(file, static_cast<std::filesystem::perms>(mode));
    PskKeys refused;
    try {
      refused.load(file);
      ADD_FAILURE() << shown << " was taken";
    } catch (const std::runtime_error& e) {
      EXPECT_EQ(std::string(e.what()), file.string() + ": permissions " + shown +
                                           " are too open: its group and others must have none (chmod 600)");
    }
    EXPECT_TRUE(refused.empty());
  }
  PskKeys missing;
  EXPECT_THROW(missing.load(dir / "none"), std::runtime_error);
  PskKeys directory;
  EXPECT_THROW(directory.load(dir), std::runtime_error);
  std::filesystem::remove_all(dir);
}

TEST(Users, CheckTheRightPasswordAndRefuseWrongOnesAndStrangers) {
  Users users;
  users.add_line(hash_password_line("carol", "open sesame"));
  users.add_line(hash_password_line("dave", "open sesame"));
  EXPECT_TRUE(users.check("carol", "open sesame"));
  EXPECT_FALSE(users.check("carol", "open sesam"));
  EXPECT_FALSE(users.check("carol", ""));
  EXPECT_FALSE(users.check("eve", "open sesame"));
  EXPECT_FALSE(users.check("", ""));
}

TEST(Users, SaltEveryHashAnew) {
  const std::string first = hash_password_line("carol", "pw");
  const std::string second = hash_password_line("carol", "pw");
  EXPECT_NE(first, second);
  // user : 16 bytes of salt : 32 bytes of PBKDF2-SHA256, in hex
  EXPECT_EQ(first.size(), std::string("carol:").size() + 32 + 1 + 64) << first;
}

TEST(Users, RefuseMalformedLinesSayingWhy) {
  const std::string hash(64, 'a');
  const std::vector<std::pair<std::string, std::string>> cases{
      {"carol", "expected user:salt:hash"},
      {"carol:0011223344556677", "expected user:salt:hash"},
      {"carol:0011223344556677:" + hash + ":x", "expected user:salt:hash"},
      {":0011223344556677:" + hash, "the user name"},
      {"ca rol:0011223344556677:" + hash, "the user name"},
      {"carol:00112233445566:" + hash, "the salt must be"},
      {"carol:zz11223344556677:" + hash, "the salt must be"},
      {"carol:0011223344556677:" + std::string(62, 'a'), "the hash must be 32 bytes"},
      {"carol:0011223344556677:" + std::string(64, 'x'), "the hash must be 32 bytes"},
  };
  for (const auto& [line, says] : cases) {
    Users users;
    try {
      users.add_line(line);
      ADD_FAILURE() << line << " was taken";
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find(says), std::string::npos) << line << ": " << e.what();
    }
  }
  Users twice;
  twice.add_line("carol:0011223344556677:" + hash);
  EXPECT_THROW(twice.add_line("carol:7766554433221100:" + hash), std::invalid_argument);
  EXPECT_THROW((void)hash_password_line("ca:rol", "pw"), std::invalid_argument);
}

}  // namespace
}  // namespace tcpd
