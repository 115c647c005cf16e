// Outbound ws:// and wss:// for ipcd (DESIGN §6, §11, §14). ipcd connects to RUNDIR/ws (or
// RUNDIR/wss) and sends one CONNECT {"uri": "ws://host:port/SERVICE", "service": ..., "client":
// {...}}; websocketd connects, for wss:// verifies the server's certificate (against --tls-ca,
// else the system store, and the URI's host), opens a WebSocket to the remote websocketd with
// subprotocol ipc.frame at /SERVICE, and answers DATA "ok" once the handshake is done, or ERROR
// with the reason (the remote's refusal status and its "code: text" body, auth-failed for TLS,
// or unreachable/refused/timeout). After "ok" the same Unix connection carries the client's
// frames, relayed one frame per binary message.
#pragma once

#include <ipc/connection.hpp>
#include <ipc/uri.hpp>

#include "server.hpp"

namespace websocketd {

// `scheme` is ws or wss: the one this socket takes.
asio::awaitable<void> outbound_session(ipc::Connection& ipcd, ipc::Scheme scheme, Context& context);

}  // namespace websocketd
