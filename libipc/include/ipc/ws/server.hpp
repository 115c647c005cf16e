// The server side of a WebSocket, as websocketd and a service that adopted a ws:// connection
// (DESIGN §15) both answer one: the stream set up the same way (timeouts, headers, message
// limit), and for an adopted connection the whole of it: the upgrade answered in the service,
// then the §11 mapping relayed to the service's own session in the same process.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>

#include "ipc/connection.hpp"
#include "ipc/ws/beast.hpp"
#include "ipc/ws/mapping.hpp"
#include "ipc/ws/relay.hpp"
#include "ipc/ws/request.hpp"

namespace ipc::ws {

struct StreamSettings {
  Subprotocol mode = Subprotocol::none;
  std::size_t max_message = default_max_payload;        // payload bytes
  std::chrono::milliseconds handshake_timeout{10'000};  // the upgrade, and a close
  // A ping after half of it without a byte from the peer, dropped after all of it (0: never).
  std::chrono::milliseconds idle_timeout{60'000};
  std::string server = "ipc";  // the answer's Server header
};

// Timeouts, the answer's Server and Sec-WebSocket-Protocol headers, the message limit (an
// ipc.frame message carries the 6-byte header on top of the payload).
template <class Ws>
void prepare_server_stream(Ws& ws, const StreamSettings& settings);

// An adopted ws:// connection: answers `request` on `socket`, then relays between the WebSocket
// and `local` until either side ends. `local` is the other end of a socket pair whose first end
// the service's session runs on.
asio::awaitable<void> serve_adopted(TcpSocket socket, Request request, StreamSettings settings, Connection& local,
                                    RelayOptions options);

}  // namespace ipc::ws
