// Unit tests for the wire frame (DESIGN §3): encoding, the exact header layout and the
// incremental FrameDecoder.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <ipc/message.hpp>
#include <string>
#include <vector>

namespace {

using ipc::FrameDecoder;
using ipc::Message;
using ipc::MessageType;

constexpr MessageType all_types[] = {MessageType::close,   MessageType::error,   MessageType::data,
                                     MessageType::lookup,  MessageType::connect, MessageType::inbound,
                                     MessageType::status};

std::string bytes(std::initializer_list<int> values) {
  std::string out;
  for (int v : values) out += static_cast<char>(static_cast<unsigned char>(v));
  return out;
}

// Feeds `wire` into a fresh decoder and takes out every frame; fails the test on too_large.
std::vector<Message> decode_all(const std::string& wire, std::size_t max_payload = ipc::default_max_payload) {
  FrameDecoder decoder(max_payload);
  decoder.feed(wire);
  std::vector<Message> out;
  Message m;
  for (;;) {
    const auto status = decoder.next(m);
    if (status == FrameDecoder::Status::need_more) break;
    EXPECT_EQ(status, FrameDecoder::Status::frame);
    if (status != FrameDecoder::Status::frame) break;
    out.push_back(m);
  }
  EXPECT_EQ(decoder.buffered(), 0u);
  return out;
}

Message round_trip(const Message& in) {
  const auto frames = decode_all(ipc::encode(in));
  EXPECT_EQ(frames.size(), 1u);
  return frames.empty() ? Message{} : frames.front();
}

TEST(Frame, RoundTripsAnEmptyPayload) {
  const Message in{MessageType::data, 0, ""};
  EXPECT_EQ(ipc::encode(in).size(), ipc::header_size);
  EXPECT_EQ(round_trip(in), in);
}

TEST(Frame, RoundTripsAOneBytePayload) {
  const Message in{MessageType::data, 7, "x"};
  EXPECT_EQ(ipc::encode(in).size(), ipc::header_size + 1);
  EXPECT_EQ(round_trip(in), in);
}

TEST(Frame, RoundTripsAOneMebibytePayload) {
  std::string payload(1024 * 1024, '\0');
  for (std::size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<char>(i * 31 + 7);
  const Message in{MessageType::data, 42, payload};
  const std::string wire = ipc::encode(in);
  ASSERT_EQ(wire.size(), ipc::header_size + payload.size());
  EXPECT_EQ(bytes({0x00, 0x10, 0x00, 0x00}), wire.substr(1, 4));
  EXPECT_EQ(round_trip(in), in);
}

TEST(Frame, RoundTripsUserTypeEdgesZeroAnd255) {
  for (int user_type : {0, 1, 127, 128, 254, 255}) {
    const Message in{MessageType::data, static_cast<std::uint8_t>(user_type), "payload"};
    EXPECT_EQ(round_trip(in), in) << "user_type " << user_type;
    EXPECT_EQ(static_cast<unsigned char>(ipc::encode(in)[5]), user_type);
  }
}

TEST(Frame, RoundTripsEveryKnownType) {
  for (MessageType type : all_types) {
    const Message in{type, 3, "body of " + std::string(ipc::to_string(type))};
    EXPECT_EQ(round_trip(in), in) << ipc::to_string(type);
  }
}

TEST(Frame, KnowsExactlyTheTypesZeroToSeven) {
  for (int t = 0; t <= 255; ++t) EXPECT_EQ(ipc::is_known_type(static_cast<std::uint8_t>(t)), t <= 7) << t;
  EXPECT_EQ(ipc::to_string(MessageType::close), "CLOSE");
  EXPECT_EQ(ipc::to_string(MessageType::error), "ERROR");
  EXPECT_EQ(ipc::to_string(MessageType::data), "DATA");
  EXPECT_EQ(ipc::to_string(MessageType::lookup), "LOOKUP");
  EXPECT_EQ(ipc::to_string(MessageType::connect), "CONNECT");
  EXPECT_EQ(ipc::to_string(MessageType::inbound), "INBOUND");
  EXPECT_EQ(ipc::to_string(MessageType::status), "STATUS");
  EXPECT_EQ(ipc::to_string(MessageType::adopt), "ADOPT");
}

TEST(Frame, TypeValuesMatchTheDesignTable) {
  EXPECT_EQ(static_cast<int>(MessageType::close), 0);
  EXPECT_EQ(static_cast<int>(MessageType::error), 1);
  EXPECT_EQ(static_cast<int>(MessageType::data), 2);
  EXPECT_EQ(static_cast<int>(MessageType::lookup), 3);
  EXPECT_EQ(static_cast<int>(MessageType::connect), 4);
  EXPECT_EQ(static_cast<int>(MessageType::inbound), 5);
  EXPECT_EQ(static_cast<int>(MessageType::status), 6);
  EXPECT_EQ(static_cast<int>(MessageType::adopt), 7);
}

TEST(Frame, EncodesTheHeaderByteForByte) {
  // type 3 at offset 0, big-endian length 5 at offset 1, user_type 0xAB at offset 5.
  EXPECT_EQ(ipc::encode({MessageType::lookup, 0xAB, "hello"}),
            bytes({0x03, 0x00, 0x00, 0x00, 0x05, 0xAB}) + "hello");
  // A length with four distinct bytes shows the byte order.
  std::array<std::uint8_t, ipc::header_size> header{};
  ipc::encode_header(header, MessageType::status, 0x01020304u, 0xFE);
  EXPECT_EQ(header, (std::array<std::uint8_t, 6>{0x06, 0x01, 0x02, 0x03, 0x04, 0xFE}));
  ipc::encode_header(header, MessageType::close, 0xFFFFFFFFu, 0);
  EXPECT_EQ(header, (std::array<std::uint8_t, 6>{0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0x00}));
}

TEST(Frame, AppendFrameAddsToWhatIsAlreadyThere) {
  std::string out = "prefix";
  ipc::append_frame(out, Message::data("ab", 9));
  EXPECT_EQ(out, "prefix" + bytes({0x02, 0x00, 0x00, 0x00, 0x02, 0x09}) + "ab");
}

TEST(Frame, MessageHelpersBuildDataAndErrorFrames) {
  EXPECT_EQ(Message::data("x", 4), (Message{MessageType::data, 4, "x"}));
  EXPECT_EQ(Message::error("not-found: y"), (Message{MessageType::error, 0, "not-found: y"}));
}

TEST(FrameHeader, DecodesHandWrittenBytes) {
  const std::string raw = bytes({0x05, 0x12, 0x34, 0x56, 0x78, 0x9A});
  const ipc::FrameHeader h = ipc::decode_header(raw.data());
  EXPECT_EQ(h.type, 5);
  EXPECT_EQ(h.length, 0x12345678u);
  EXPECT_EQ(h.user_type, 0x9A);
}

TEST(FrameHeader, DecodesTheLargestLength) {
  const std::string raw = bytes({0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF});
  const ipc::FrameHeader h = ipc::decode_header(raw.data());
  EXPECT_EQ(h.type, 255);
  EXPECT_EQ(h.length, 0xFFFFFFFFu);
  EXPECT_EQ(h.user_type, 255);
}

TEST(FrameHeader, DecodesWhatEncodeHeaderWrote) {
  std::array<std::uint8_t, ipc::header_size> header{};
  ipc::encode_header(header, MessageType::inbound, 0x00A0B0C0u, 17);
  const ipc::FrameHeader h = ipc::decode_header(header.data());
  EXPECT_EQ(h.type, 5);
  EXPECT_EQ(h.length, 0x00A0B0C0u);
  EXPECT_EQ(h.user_type, 17);
}

TEST(FrameDecoder, DecodesHandWrittenBytes) {
  const auto frames = decode_all(bytes({0x01, 0x00, 0x00, 0x00, 0x03, 0x07}) + "abc");
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0], (Message{MessageType::error, 7, "abc"}));
}

TEST(FrameDecoder, DecodesAFrameSplitAtEveryByte) {
  const Message in{MessageType::connect, 200, R"({"service":"pong","user":"x"})"};
  const std::string wire = ipc::encode(in);
  for (std::size_t split = 1; split < wire.size(); ++split) {
    FrameDecoder decoder;
    Message out;
    decoder.feed(wire.substr(0, split));
    ASSERT_EQ(decoder.next(out), FrameDecoder::Status::need_more) << "split " << split;
    EXPECT_EQ(decoder.buffered(), split);
    decoder.feed(wire.substr(split));
    ASSERT_EQ(decoder.next(out), FrameDecoder::Status::frame) << "split " << split;
    EXPECT_EQ(out, in) << "split " << split;
    EXPECT_EQ(decoder.next(out), FrameDecoder::Status::need_more);
    EXPECT_EQ(decoder.buffered(), 0u);
  }
}

TEST(FrameDecoder, DecodesAFrameFedOneByteAtATime) {
  const Message in{MessageType::data, 1, std::string(300, 'z')};
  const std::string wire = ipc::encode(in);
  FrameDecoder decoder;
  Message out;
  for (std::size_t i = 0; i + 1 < wire.size(); ++i) {
    decoder.feed(wire.substr(i, 1));
    ASSERT_EQ(decoder.next(out), FrameDecoder::Status::need_more) << "after byte " << i;
  }
  decoder.feed(wire.substr(wire.size() - 1));
  ASSERT_EQ(decoder.next(out), FrameDecoder::Status::frame);
  EXPECT_EQ(out, in);
}

TEST(FrameDecoder, DecodesManyFramesFromOneFeed) {
  std::vector<Message> in;
  std::string wire;
  for (int i = 0; i < 100; ++i) {
    in.push_back({all_types[i % 7], static_cast<std::uint8_t>(i), std::string(static_cast<std::size_t>(i), static_cast<char>('a' + i % 26))});
    ipc::append_frame(wire, in.back());
  }
  EXPECT_EQ(decode_all(wire), in);
}

TEST(FrameDecoder, DecodesFramesAcrossFeedsThatCutThroughSeveralFrames) {
  std::vector<Message> in;
  std::string wire;
  for (int i = 0; i < 50; ++i) {
    in.push_back(Message::data(std::string(static_cast<std::size_t>(i * 7), 'q'), static_cast<std::uint8_t>(i)));
    ipc::append_frame(wire, in.back());
  }
  FrameDecoder decoder;
  std::vector<Message> out;
  Message m;
  for (std::size_t pos = 0; pos < wire.size(); pos += 13) {
    decoder.feed(wire.substr(pos, 13));
    while (decoder.next(m) == FrameDecoder::Status::frame) out.push_back(m);
  }
  EXPECT_EQ(out, in);
  EXPECT_EQ(decoder.buffered(), 0u);
}

TEST(FrameDecoder, WorksThroughPrepareAndCommit) {
  const std::string wire = ipc::encode(Message::data("first")) + ipc::encode(Message::data("second", 2));
  FrameDecoder decoder;
  auto room = decoder.prepare(4);
  ASSERT_GE(room.size(), 4u);
  std::copy(wire.begin(), wire.begin() + 4, room.begin());
  decoder.commit(4);
  Message m;
  EXPECT_EQ(decoder.next(m), FrameDecoder::Status::need_more);
  room = decoder.prepare(wire.size() - 4);
  ASSERT_GE(room.size(), wire.size() - 4);
  std::copy(wire.begin() + 4, wire.end(), room.begin());
  decoder.commit(wire.size() - 4);
  ASSERT_EQ(decoder.next(m), FrameDecoder::Status::frame);
  EXPECT_EQ(m, Message::data("first"));
  ASSERT_EQ(decoder.next(m), FrameDecoder::Status::frame);
  EXPECT_EQ(m, Message::data("second", 2));
}

TEST(FrameDecoder, PrepareMakesRoomForAWholeLargeFrameOnceItsHeaderIsIn) {
  const std::string wire = ipc::encode(Message::data(std::string(200000, 'L')));
  FrameDecoder decoder;
  decoder.feed(wire.substr(0, 10));
  EXPECT_GE(decoder.prepare(1).size(), wire.size() - 10);
}

TEST(FrameDecoder, AcceptsAnEmptyFeed) {
  FrameDecoder decoder;
  decoder.feed({});  // a fresh decoder has no buffer yet: must not memcpy to/from null
  decoder.feed("");
  Message m;
  EXPECT_EQ(decoder.next(m), FrameDecoder::Status::need_more);
  EXPECT_EQ(decoder.buffered(), 0u);
  decoder.feed(ipc::encode(Message::data("x")));
  decoder.feed({});
  ASSERT_EQ(decoder.next(m), FrameDecoder::Status::frame);
  EXPECT_EQ(m.payload, "x");
}

TEST(FrameDecoder, NeedsMoreOnAPartialHeader) {
  const std::string header = bytes({0x02, 0x00, 0x00, 0x00, 0x00, 0x00});
  for (std::size_t n = 0; n < ipc::header_size; ++n) {
    FrameDecoder decoder;
    decoder.feed(header.substr(0, n));
    Message m;
    EXPECT_EQ(decoder.next(m), FrameDecoder::Status::need_more) << n << " bytes";
    EXPECT_EQ(decoder.buffered(), n);
  }
}

TEST(FrameDecoder, NeedsMoreOnAPartialPayload) {
  FrameDecoder decoder;
  decoder.feed(bytes({0x02, 0x00, 0x00, 0x00, 0x04, 0x00}) + "abc");
  Message m;
  EXPECT_EQ(decoder.next(m), FrameDecoder::Status::need_more);
  decoder.feed("d");
  ASSERT_EQ(decoder.next(m), FrameDecoder::Status::frame);
  EXPECT_EQ(m.payload, "abcd");
}

TEST(FrameDecoder, IsCompleteOnlyWhenNextWouldNotNeedMore) {
  const std::string wire = ipc::encode(Message::data("whole"));
  FrameDecoder decoder(100);
  EXPECT_FALSE(decoder.complete());
  decoder.feed(wire.substr(0, 3));
  EXPECT_FALSE(decoder.complete());  // part of the header
  decoder.feed(wire.substr(3, 5));
  EXPECT_FALSE(decoder.complete());  // the header and part of the payload
  decoder.feed(wire.substr(8));
  EXPECT_TRUE(decoder.complete());
  Message m;
  ASSERT_EQ(decoder.next(m), FrameDecoder::Status::frame);
  EXPECT_FALSE(decoder.complete());
  decoder.feed(bytes({0x02, 0x00, 0x00, 0x00, 101, 0x00}));  // a header over the limit: too_large at once
  EXPECT_TRUE(decoder.complete());
  EXPECT_EQ(decoder.next(m), FrameDecoder::Status::too_large);
}

TEST(FrameDecoder, RefusesAHeaderAnnouncingMoreThanTheLimit) {
  FrameDecoder decoder(100);
  EXPECT_EQ(decoder.max_payload(), 100u);
  decoder.feed(bytes({0x02, 0x00, 0x00, 0x00, 101, 0x00}));
  Message m;
  EXPECT_EQ(decoder.next(m), FrameDecoder::Status::too_large);
  EXPECT_EQ(decoder.announced_length(), 101u);
  // The decoder stays stuck on it.
  EXPECT_EQ(decoder.next(m), FrameDecoder::Status::too_large);
}

TEST(FrameDecoder, AcceptsAFrameOfExactlyTheLimit) {
  FrameDecoder decoder(100);
  decoder.feed(ipc::encode(Message::data(std::string(100, 'x'))));
  Message m;
  ASSERT_EQ(decoder.next(m), FrameDecoder::Status::frame);
  EXPECT_EQ(m.payload.size(), 100u);
}

TEST(FrameDecoder, RefusesTooLargeWithoutWaitingForThePayload) {
  // Only the header has arrived: the limit is checked on it, not after the payload.
  FrameDecoder decoder;  // default 16 MiB
  decoder.feed(bytes({0x02, 0x01, 0x00, 0x00, 0x01, 0x00}));
  Message m;
  EXPECT_EQ(decoder.next(m), FrameDecoder::Status::too_large);
  EXPECT_EQ(decoder.announced_length(), 16u * 1024 * 1024 + 1);
}

TEST(FrameDecoder, RefusesA4GiBAnnouncementWithoutAllocatingForIt) {
  const std::string header = bytes({0x02, 0xFF, 0xFF, 0xFF, 0xFF, 0x00});
  for (std::size_t limit : {ipc::default_max_payload, std::size_t{16}}) {
    FrameDecoder decoder(limit);
    decoder.feed(header);
    Message m;
    EXPECT_EQ(decoder.next(m), FrameDecoder::Status::too_large) << "limit " << limit;
    EXPECT_EQ(decoder.announced_length(), 0xFFFFFFFFu);
    EXPECT_TRUE(m.payload.empty());
    // prepare() must not try to make room for the announced 4 GiB (under ASan a 4 GiB resize
    // would show up as an allocation failure or a huge RSS): it gives the small room asked for.
    EXPECT_LT(decoder.prepare(64).size(), std::size_t{1} << 20) << "limit " << limit;
  }
}

TEST(FrameDecoder, RefusesOnlyTheOversizedFrameAfterGoodOnes) {
  FrameDecoder decoder(8);
  decoder.feed(ipc::encode(Message::data("ok")) + ipc::encode(Message::data("way too long")));
  Message m;
  ASSERT_EQ(decoder.next(m), FrameDecoder::Status::frame);
  EXPECT_EQ(m.payload, "ok");
  EXPECT_EQ(decoder.next(m), FrameDecoder::Status::too_large);
  EXPECT_EQ(decoder.announced_length(), 12u);
}

TEST(FrameDecoder, PassesUnknownTypesThroughForTheCallerToJudge) {
  const auto frames = decode_all(bytes({0xC8, 0x00, 0x00, 0x00, 0x01, 0x00}) + "x");
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(static_cast<int>(frames[0].type), 200);
  EXPECT_FALSE(ipc::is_known_type(static_cast<std::uint8_t>(frames[0].type)));
}

TEST(FrameDecoder, ReusesTheOutputMessage) {
  FrameDecoder decoder;
  decoder.feed(ipc::encode(Message::data("a long first payload", 5)) + ipc::encode({MessageType::close, 0, ""}));
  Message m;
  ASSERT_EQ(decoder.next(m), FrameDecoder::Status::frame);
  ASSERT_EQ(decoder.next(m), FrameDecoder::Status::frame);
  EXPECT_EQ(m, (Message{MessageType::close, 0, ""}));
}

TEST(FrameDecoder, TakeBufferedHandsOverThePartialFrame) {
  const std::string second = ipc::encode(Message::data("second"));
  FrameDecoder decoder;
  decoder.feed(ipc::encode(Message::data("first")) + second.substr(0, 8));
  Message m;
  ASSERT_EQ(decoder.next(m), FrameDecoder::Status::frame);
  EXPECT_EQ(decoder.next(m), FrameDecoder::Status::need_more);
  EXPECT_EQ(decoder.buffered(), 8u);
  EXPECT_EQ(decoder.take_buffered(), second.substr(0, 8));
  EXPECT_EQ(decoder.buffered(), 0u);
  EXPECT_EQ(decoder.next(m), FrameDecoder::Status::need_more);
}

}  // namespace
