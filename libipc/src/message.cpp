// Frame encoding and the incremental decoder (DESIGN §3).
#include "ipc/message.hpp"

#include <algorithm>
#include <cstring>

namespace ipc {

bool is_known_type(std::uint8_t type) noexcept { return type <= static_cast<std::uint8_t>(MessageType::status); }

std::string_view to_string(MessageType type) noexcept {
  switch (type) {
    case MessageType::close: return "CLOSE";
    case MessageType::error: return "ERROR";
    case MessageType::data: return "DATA";
    case MessageType::lookup: return "LOOKUP";
    case MessageType::connect: return "CONNECT";
    case MessageType::inbound: return "INBOUND";
    case MessageType::status: return "STATUS";
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
  constexpr std::size_t keep_capacity = 1024 * 1024;
  if (begin_ == end_) {
    begin_ = end_ = 0;
    // A huge frame has gone through: give the memory back rather than hold it per idle peer.
    if (buffer_.size() > keep_capacity) std::vector<char>().swap(buffer_);
  } else if (const std::size_t available = end_ - begin_; available >= header_size) {
    // The header of a large frame is in: make room for all of it so one read can finish it.
    const std::uint32_t length = peek_length();
    if (length <= max_payload_ && header_size + length > available)
      min_bytes = std::max(min_bytes, header_size + length - available);
  }
  if (begin_ > 0 && buffer_.size() - end_ < min_bytes) {
    // Move the partial frame to the front before growing.
    std::memmove(buffer_.data(), buffer_.data() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
  }
  if (buffer_.size() - end_ < min_bytes) buffer_.resize(end_ + min_bytes);
  return {buffer_.data() + end_, buffer_.size() - end_};
}

std::uint32_t FrameDecoder::peek_length() const noexcept { return decode_header(buffer_.data() + begin_).length; }

void FrameDecoder::feed(std::string_view bytes) {
  auto room = prepare(bytes.size());
  std::memcpy(room.data(), bytes.data(), bytes.size());
  commit(bytes.size());
}

FrameDecoder::Status FrameDecoder::next(Message& out) {
  const std::size_t available = end_ - begin_;
  if (available < header_size) return Status::need_more;
  const FrameHeader header = decode_header(buffer_.data() + begin_);
  const std::uint32_t length = header.length;
  if (length > max_payload_) {
    announced_ = length;
    return Status::too_large;
  }
  if (available < header_size + length) return Status::need_more;
  out.type = static_cast<MessageType>(header.type);
  out.user_type = header.user_type;
  out.payload.assign(buffer_.data() + begin_ + header_size, length);
  begin_ += header_size + length;
  if (begin_ == end_) begin_ = end_ = 0;
  return Status::frame;
}

std::string FrameDecoder::take_buffered() {
  std::string rest(buffer_.data() + begin_, end_ - begin_);
  begin_ = end_ = 0;
  return rest;
}

}  // namespace ipc
