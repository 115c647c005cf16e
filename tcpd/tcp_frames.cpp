// One frame at a time over TCP, with a deadline (see tcp_frames.hpp).
#include "tcp_frames.hpp"

#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <ipc/error.hpp>
#include <ipc/text.hpp>
#include <memory>

namespace tcpd {
namespace asio = ipc::asio;
using ipc::Error;
using ipc::ErrorCode;

asio::awaitable<ipc::Message> read_frame(RemoteStream& stream, std::size_t max_payload,
                                         std::chrono::milliseconds timeout, const std::string& what,
                                         std::function<void(std::span<const std::uint8_t>)> check_header) {
  const auto deadline = ipc::cancelling(stream.socket(), timeout);
  std::uint8_t header[ipc::header_size];
  const auto ec = co_await stream.read_exact(asio::buffer(header));
  if (deadline.expired()) throw Error(ErrorCode::timeout, what + " did not complete within " + ipc::seconds_text(timeout));
  if (ec) throw Error(ErrorCode::unavailable, what + ": the connection closed (" + ec.message() + ")");
  if (check_header) check_header(header);
  const auto h = ipc::decode_header(header);
  // The size is checked before anything is allocated for it.
  if (h.length > max_payload)
    throw Error(ErrorCode::too_large, what + ": a frame of " + std::to_string(h.length) + " bytes, over the limit of " +
                                          std::to_string(max_payload));
  ipc::Message frame{static_cast<ipc::MessageType>(h.type), h.user_type, std::string(h.length, '\0')};
  const auto ec2 = co_await stream.read_exact(asio::buffer(frame.payload));
  if (deadline.expired()) throw Error(ErrorCode::timeout, what + " did not complete within " + ipc::seconds_text(timeout));
  if (ec2) throw Error(ErrorCode::unavailable, what + ": the connection closed (" + ec2.message() + ")");
  co_return frame;
}

asio::awaitable<void> write_frame(RemoteStream& stream, const ipc::Message& frame,
                                  std::chrono::milliseconds timeout) {
  const auto deadline = ipc::cancelling(stream.socket(), timeout);
  const std::string bytes = ipc::encode(frame);
  const auto ec = co_await stream.write(asio::buffer(bytes));
  if (deadline.expired()) throw Error(ErrorCode::timeout, "the remote side did not read in time");
  if (ec) throw Error(ErrorCode::unavailable, "the connection closed (" + ec.message() + ")");
}

}  // namespace tcpd
