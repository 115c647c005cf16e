// The WebSocket upgrade request as bytes (see ipc/ws/request.hpp).
#include "ipc/ws/request.hpp"

namespace ipc::ws {

std::optional<Request> parse_upgrade_request(std::string_view bytes, std::string& why) {
  http::request_parser<http::string_body> parser;
  parser.header_limit(max_request_header);
  parser.body_limit(0);
  parser.eager(true);
  boost::system::error_code ec;
  const std::size_t used = parser.put(asio::buffer(bytes.data(), bytes.size()), ec);
  if (ec == http::error::need_more) ec = {};
  if (ec) {
    why = "the upgrade request is not HTTP: " + ec.message();
    return std::nullopt;
  }
  if (!parser.is_done()) {
    why = "the upgrade request is not whole";
    return std::nullopt;
  }
  if (used != bytes.size()) {
    why = "the upgrade request is followed by " + std::to_string(bytes.size() - used) + " more bytes";
    return std::nullopt;
  }
  Request request = parser.release();
  // An upgrade has no body: one announced (chunked, or a length) is not what a handshake is.
  if (request.chunked() || request.has_content_length()) {
    why = "the upgrade request announces a body";
    return std::nullopt;
  }
  if (!websocket::is_upgrade(request)) {
    why = "the request does not ask for a WebSocket upgrade";
    return std::nullopt;
  }
  return request;
}

std::string request_bytes(const Request& request) {
  std::string bytes;
  http::request_serializer<http::string_body> serializer(request);
  boost::system::error_code ec;
  do {
    serializer.next(ec, [&](boost::system::error_code&, const auto& buffers) {
      for (const auto buffer : beast::buffers_range_ref(buffers))
        bytes.append(static_cast<const char*>(buffer.data()), buffer.size());
      serializer.consume(beast::buffer_bytes(buffers));
    });
  } while (!ec && !serializer.is_done());
  return bytes;
}

}  // namespace ipc::ws
