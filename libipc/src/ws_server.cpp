// The server side of a WebSocket (see ipc/ws/server.hpp).
#include "ipc/ws/server.hpp"

#include "ipc/log.hpp"

namespace ipc::ws {

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
