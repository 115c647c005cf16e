// The frame of the wire protocol (DESIGN §3), byte-compatible with the original C libipc 0.7:
//
//   offset 0  type       u8
//   offset 1  length     u32, big-endian payload length
//   offset 5  user_type  u8
//   offset 6  payload    `length` bytes
//
// The message types are declared here and nowhere else. FrameDecoder is the one incremental
// parser: feed it whatever a read returned, take out whole frames.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace ipc {

enum class MessageType : std::uint8_t {
  close = 0,    // the sender is closing
  error = 1,    // "code: human text" (DESIGN §10)
  data = 2,     // application data
  lookup = 3,   // "SERVICE;ROUTES", client -> ipcd (§5)
  connect = 4,  // JSON, ipcd -> protocol daemon (§6) and daemon -> remote daemon (§7)
  inbound = 5,  // JSON, protocol daemon -> ipcd (§8)
  status = 6,   // empty request; the answer is DATA with a JSON document
  adopt = 7,    // JSON describing a remote peer, with its connection's fd, daemon -> service (§15)
};

inline constexpr std::size_t header_size = 6;
inline constexpr std::size_t default_max_payload = 16 * 1024 * 1024;

[[nodiscard]] bool is_known_type(std::uint8_t type) noexcept;
[[nodiscard]] std::string_view to_string(MessageType type) noexcept;

struct Message {
  MessageType type = MessageType::data;
  std::uint8_t user_type = 0;
  std::string payload;

  [[nodiscard]] static Message data(std::string payload, std::uint8_t user_type = 0) {
    return {MessageType::data, user_type, std::move(payload)};
  }
  // An ERROR frame whose payload is "code: text", e.g. error("not-found", "...") is built by
  // ipc::Error::payload(); this one takes the payload ready-made.
  [[nodiscard]] static Message error(std::string payload) {
    return {MessageType::error, 0, std::move(payload)};
  }

  friend bool operator==(const Message&, const Message&) = default;
};

// Writes the 6-byte header for a payload of `length` bytes into `out`.
void encode_header(std::span<std::uint8_t, header_size> out, MessageType type, std::uint32_t length,
                   std::uint8_t user_type) noexcept;

struct FrameHeader {
  std::uint8_t type;
  std::uint32_t length;
  std::uint8_t user_type;
};
// Reads a header; `in` must hold at least header_size bytes.
[[nodiscard]] inline FrameHeader decode_header(const void* in) noexcept {
  const auto* h = static_cast<const std::uint8_t*>(in);
  return {h[0], (std::uint32_t{h[1]} << 24) | (std::uint32_t{h[2]} << 16) | (std::uint32_t{h[3]} << 8) | h[4], h[5]};
}

// Appends the whole frame (header and payload) to `out`.
void append_frame(std::string& out, const Message& message);
[[nodiscard]] std::string encode(const Message& message);

// Incremental frame parser. Frames may arrive split across reads or several in one read.
// The payload limit is checked on the header, before any allocation for the payload.
class FrameDecoder {
 public:
  enum class Status { frame, need_more, too_large };

  explicit FrameDecoder(std::size_t max_payload = default_max_payload) : max_payload_(max_payload) {}

  // Room to read into: at least `min_bytes` writable bytes at the end of the buffer.
  [[nodiscard]] std::span<char> prepare(std::size_t min_bytes = 64 * 1024);
  // `n` bytes of what prepare() returned now hold data.
  void commit(std::size_t n) noexcept { end_ += n; }
  // Copies bytes in (prepare + memcpy + commit).
  void feed(std::string_view bytes);

  // Takes the next whole frame out into `out` (reusing its capacity).
  // too_large: the header announced more than the limit; the decoder is then stuck, drop the peer.
  [[nodiscard]] Status next(Message& out);

  // Header of the frame being refused after too_large (for the error text).
  [[nodiscard]] std::uint32_t announced_length() const noexcept { return announced_; }
  [[nodiscard]] std::size_t max_payload() const noexcept { return max_payload_; }
  // Bytes received and not yet returned as frames.
  [[nodiscard]] std::size_t buffered() const noexcept { return end_ - begin_; }
  // next() would not answer need_more: a whole frame is buffered, or the header of one too large.
  [[nodiscard]] bool complete() const noexcept;
  // Takes out the buffered bytes that are not a whole frame yet (used when handing a stream on).
  [[nodiscard]] std::string take_buffered();
  // Gives the buffer's memory back when nothing is buffered (an idle connection holds none).
  void release_if_empty() noexcept;

 private:
  [[nodiscard]] std::uint32_t peek_length() const noexcept;

  std::size_t max_payload_;
  std::unique_ptr<char[]> buffer_;
  std::size_t capacity_ = 0;
  std::size_t begin_ = 0;
  std::size_t end_ = 0;
  std::uint32_t announced_ = 0;
};

}  // namespace ipc
