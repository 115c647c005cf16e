// The relay between one WebSocket and one libipc connection (a local service, or ipcd's
// delegation connection for outbound ws://). Two coroutines, one per direction, each the only
// reader of its side; the service->WebSocket one is also the only writer of WebSocket frames,
// close included, so a close never races a message write. Each waits for its write before
// reading again: a slow side stops the reading of the fast one, and no more than one message
// per direction is ever buffered.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>

#include <ipc/connection.hpp>
#include <ipc/server.hpp>

#include "beast.hpp"
#include "mapping.hpp"
#include "message_budget.hpp"

namespace websocketd {

struct RelayOptions {
  Subprotocol mode = Subprotocol::text;
  std::size_t max_message = ipc::default_max_payload;  // payload bytes
  const ipc::Server* server = nullptr;  // stopping: close with 1001 going away
  std::string label;               // for logs: "ws 127.0.0.1:5555 -> pong"
  MessageBudget* budget = nullptr;  // websocketd's, for unfinished messages (--max-buffered)
  // A peer that acknowledges nothing of a message written to it for this long is dropped
  // (--write-timeout; 0: never).
  std::chrono::milliseconds write_timeout{60'000};
};

// For WsStream (ws://) and WssStream (wss://), inbound, and their outbound forms
// (OutboundWsStream, OutboundWssStream: capped_stream.hpp).
template <class Ws>
asio::awaitable<void> relay(Ws& ws, ipc::Connection& local, RelayOptions options);

}  // namespace websocketd
