// Frame encoding and the incremental decoder (DESIGN §3).
#include "ipc/message.hpp"

#include <algorithm>
#include <cstring>

namespace ipc {

bool is_known_type(std::uint8_t type) noexcept { return type <= static_cast<std::uint8_t>(MessageType::adopt); }

std::string_view to_string(MessageType type) noexcept {
  switch (type) {
    case MessageType::close: return "CLOSE";
    case MessageType::error: return "ERROR";
    case MessageType::data: return "DATA";
    case MessageType::lookup: return "LOOKUP";
    case MessageType::connect: return "CONNECT";
    case MessageType::inbound: return "INBOUND";
    case MessageType::status: return "STATUS";
    case MessageType::adopt: return "ADOPT";
  }
  return "UNKNOWN";
}

void encode_header(std::span<std::uint8_t, header_size> out, MessageType type, std::uint32_t length,
                   std::uint8_t user_type) noexcept {
  out[0] = static_cast<std::uint8_t>(type);
  out[1] = static_cast<std::uint8_t>(length >> 24);
  out[2] = static_cast<std::uint8_t>(length >> 16);
  out[3] = static_cast<std::uint8_t>(length >> 8);
  out[4] = static_cast<std::uint8_t>(length);
  out[5] = user_type;
}

void append_frame(std::string& out, const Message& message) {
  std::uint8_t header[header_size];
  encode_header(std::span<std::uint8_t, header_size>(header), message.type,
                static_cast<std::uint32_t>(message.payload.size()), message.user_type);
  out.reserve(out.size() + header_size + message.payload.size());
  out.append(reinterpret_cast<const char*>(header), header_size);
  out.append(message.payload);
}

std::string encode(const Message& message) {
  std::string out;
  append_frame(out, message);
  return out;
}

std::span<char> FrameDecoder::prepare(std::size_t min_bytes) {
  // Frames up to 1 MiB keep their buffer for the next one; after a larger frame the memory
  // goes back rather than stay held by an idle peer.
  constexpr std::size_t keep_capacity = 1024 * 1024 + header_size;
  if (begin_ == end_) {
    begin_ = end_ = 0;
    if (capacity_ > keep_capacity && min_bytes <= keep_capacity) {
      buffer_.reset();
      capacity_ = 0;
    }
  } else if (const std::size_t available = end_ - begin_; available >= header_size) {
    // The header of a large frame is in: make room for all of it so one read can finish it.
    const std::uint32_t length = peek_length();
    if (length <= max_payload_ && header_size + length > available)
      min_bytes = std::max(min_bytes, header_size + length - available);
  }
  if (begin_ > 0 && capacity_ - end_ < min_bytes) {
    // Move the partial frame to the front before growing.
    std::memmove(buffer_.get(), buffer_.get() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
  }
  if (capacity_ - end_ < min_bytes) {
    // Grow geometrically, without zero-filling what a read will overwrite anyway.
    const std::size_t capacity = std::max(end_ + min_bytes, std::min(capacity_ * 2, max_payload_ + header_size));
    auto bigger = std::make_unique_for_overwrite<char[]>(capacity);
    if (end_ > 0) std::memcpy(bigger.get(), buffer_.get(), end_);
    buffer_ = std::move(bigger);
    capacity_ = capacity;
  }
  return {buffer_.get() + end_, capacity_ - end_};
}

std::uint32_t FrameDecoder::peek_length() const noexcept { return decode_header(buffer_.get() + begin_).length; }

void FrameDecoder::feed(std::string_view bytes) {
  if (bytes.empty()) return;
  auto room = prepare(bytes.size());
  std::memcpy(room.data(), bytes.data(), bytes.size());
  commit(bytes.size());
}

bool FrameDecoder::complete() const noexcept {
  const std::size_t available = end_ - begin_;
  if (available < header_size) return false;
  const std::uint32_t length = peek_length();
  return length > max_payload_ || available >= header_size + length;
}

FrameDecoder::Status FrameDecoder::next(Message& out) {
  const std::size_t available = end_ - begin_;
  if (available < header_size) return Status::need_more;
  const FrameHeader header = decode_header(buffer_.get() + begin_);
  const std::uint32_t length = header.length;
  if (length > max_payload_) {
    announced_ = length;
    return Status::too_large;
  }
  if (available < header_size + length) return Status::need_more;
  out.type = static_cast<MessageType>(header.type);
  out.user_type = header.user_type;
  out.payload.assign(buffer_.get() + begin_ + header_size, length);
  begin_ += header_size + length;
  if (begin_ == end_) begin_ = end_ = 0;
  return Status::frame;
}

void FrameDecoder::release_if_empty() noexcept {
  if (begin_ != end_) return;
  buffer_.reset();
  capacity_ = begin_ = end_ = 0;
}

std::string FrameDecoder::take_buffered() {
  std::string rest(buffer_.get() + begin_, end_ - begin_);
  begin_ = end_ = 0;
  return rest;
}

}  // namespace ipc
