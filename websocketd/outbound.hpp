// Outbound ws:// for ipcd (DESIGN §6, §11). ipcd connects to RUNDIR/ws and sends one CONNECT
// {"uri": "ws://host:port/SERVICE", "service": ..., "client": {...}}; websocketd opens a
// WebSocket to the remote websocketd with subprotocol ipc.frame at /SERVICE, and answers DATA
// "ok" once the handshake is done, or ERROR with the reason (the remote's refusal status and
// its "code: text" body, or unreachable/refused/timeout). After "ok" the same Unix connection
// carries the client's frames, relayed one frame per binary message.
//
// RUNDIR/wss answers "unsupported-scheme" until websocketd speaks TLS.
#pragma once

#include <ipc/connection.hpp>

#include "server.hpp"

namespace websocketd {

asio::awaitable<void> outbound_session(ipc::Connection& ipcd, Context& context);
asio::awaitable<void> refuse_wss(ipc::Connection& ipcd, Context& context);

}  // namespace websocketd
