// The relay between one WebSocket and one libipc connection: in websocketd, to a local service
// or to ipcd's delegation connection for outbound ws://; in a service that adopted a ws://
// connection (DESIGN §15), to its own session, in the same process. Two coroutines, one per direction, each the only
// reader of its side; the service->WebSocket one is also the only writer of WebSocket frames,
// close included, so a close never races a message write. Each waits for its write before
// reading again: a slow side stops the reading of the fast one, and no more than one message
// per direction is ever buffered.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>

#include "ipc/connection.hpp"
#include "ipc/server.hpp"

#include "ipc/ws/beast.hpp"
#include "ipc/ws/mapping.hpp"
#include "ipc/ws/budget.hpp"

namespace ipc::ws {

struct RelayOptions {
  Subprotocol mode = Subprotocol::text;
  std::size_t max_message = ipc::default_max_payload;  // payload bytes
  const ipc::Server* server = nullptr;  // stopping: close with 1001 going away
  std::string label;               // for logs: "ws 127.0.0.1:5555 -> pong"
  MessageBudget* budget = nullptr;  // the process's, for unfinished messages (--max-buffered)
  // A peer that acknowledges nothing of a message written to it for this long is dropped
  // (--write-timeout; 0: never).
  std::chrono::milliseconds write_timeout{60'000};
  // Who relays, for what the peer is told ("websocketd is shutting down") and the log.
  std::string program = "websocketd";
};

// For WsStream (ws://) and WssStream (wss://), inbound, and their outbound forms
// (OutboundWsStream, OutboundWssStream: capped_stream.hpp).
template <class Ws>
asio::awaitable<void> relay(Ws& ws, ipc::Connection& local, RelayOptions options);

}  // namespace ipc::ws
