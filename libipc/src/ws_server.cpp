// The server side of a WebSocket (see ipc/ws/server.hpp).
#include "ipc/ws/server.hpp"

#include "ipc/log.hpp"

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

template <class Ws>
void prepare_server_stream(Ws& ws, const StreamSettings& settings) {
  using duration = websocket::stream_base::duration;
  const auto idle = settings.idle_timeout.count() > 0 ? std::chrono::duration_cast<duration>(settings.idle_timeout)
                                                      : websocket::stream_base::none();
  ws.set_option(websocket::stream_base::timeout{std::chrono::duration_cast<duration>(settings.handshake_timeout), idle,
                                                settings.idle_timeout.count() > 0});
  ws.set_option(websocket::stream_base::decorator([mode = settings.mode, server = settings.server](
                                                      websocket::response_type& response) {
    response.set(http::field::server, server);
    if (mode != Subprotocol::none) response.set(http::field::sec_websocket_protocol, to_string(mode));
  }));
  ws.read_message_max(settings.max_message + (settings.mode == Subprotocol::frame ? header_size : 0));
}

template void prepare_server_stream(WsStream&, const StreamSettings&);
template void prepare_server_stream(WssStream&, const StreamSettings&);

asio::awaitable<void> serve_adopted(TcpSocket socket, Request request, StreamSettings settings, Connection& local,
                                    RelayOptions options) {
  WsStream ws(beast::tcp_stream(std::move(socket)));
  prepare_server_stream(ws, settings);
  auto [ec] = co_await ws.async_accept(request, use_nothrow);
  if (ec) {
    log_info(options.label, ": handshake failed: ", ec.message());
    local.close();
    co_return;
  }
  log_debug(options.label, ": upgraded (", to_string(settings.mode), ")");
  co_await relay(ws, local, std::move(options));
}

}  // namespace ipc::ws
