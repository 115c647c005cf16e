// One TCP connection to websocketd (TLS first when the listener has --tls-cert): HTTP/1.1 requests (static files) until one asks for a
// WebSocket upgrade to /SERVICE. That one is checked before upgrading — service name (400),
// origin (403), subprotocol (400), then ipcd's INBOUND decision (403 denied, 404 not found,
// 400 malformed, 503 ipcd not running) — and, once accepted, relayed to the local service.
#pragma once

#include "beast.hpp"
#include "server.hpp"

namespace websocketd {

// Runs as a session of the Server: it may be shed at the cap while it waits for a request,
// never once it relays; at stop, a connection between requests closes, one in a request gets its
// answer and then closes, a relay runs through the drain.
asio::awaitable<void> http_session(tcp::socket socket, ipc::SessionTicket ticket, Context& context);

}  // namespace websocketd
