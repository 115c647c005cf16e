// ADOPT (DESIGN §3 type 7, §15): a protocol daemon gives a remote peer's connection itself to
// the service that serves it, so that no daemon stays in the data path.
//
//   daemon -> service   ADOPT {"service", "scheme", "peer", "identity", "certificate",
//                       "max_per_peer", and for ws:// "request" and "subprotocol"} with the
//                       connection's fd attached, on a connection to RUNDIR/NAME@adopt
//   service -> daemon   DATA "ok" (the service has it: the daemon closes its copy and forgets
//                       it) or ERROR (refused: the connection is still the daemon's alone).
//                       A service at its connection cap, or with the peer's address at the
//                       daemon's --max-per-peer, takes it and tells the peer `unavailable`
//                       itself (an ERROR frame; 503 for ws://), as it does a local client.
//
// A service takes ADOPT only from root, ipcd's user and the protocol daemons' users
// (SO_PEERCRED of whoever opened the adoption connection: ipcd, answering INBOUND), since the
// peer description is believed as it stands. libipc services open the adoption socket by
// default (ipc::Service; --no-adopt).
#pragma once

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>

#include "ipc/asio.hpp"
#include "ipc/broker.hpp"
#include "ipc/message.hpp"
#include "ipc/server.hpp"
#include "ipc/service_name.hpp"

namespace ipc {

// The adoption socket's name in the run directory: "NAME@adopt" (never a service name).
[[nodiscard]] std::filesystem::path adoption_socket_path(const std::filesystem::path& rundir, const ServiceName& name);
inline constexpr const char* adoption_suffix = "@adopt";

// What a service learns of an adopted connection's peer.
struct Adoption {
  InboundRequest peer;  // the service asked for, scheme, address, identity, certificate
  // The daemon's --max-per-peer (0: none): how many adopted connections the peer's address may
  // hold in the service at once. The daemon keeps nothing of a connection it hands over, so the
  // service counts them for it.
  std::size_t max_per_peer = 0;
  // ws:// (scheme ws): the handshake of the browser's HTTP upgrade request as websocketd read it
  // (request line, Host, Origin, the Sec-WebSocket-* headers with the subprotocol chosen), which
  // the service answers itself, and that subprotocol ("ipc.text", "ipc.frame", or empty for
  // none). Empty for every other scheme.
  std::string request;
  std::string subprotocol;
};

[[nodiscard]] Message encode_adopt(const Adoption& adoption);
// Throws ipc::Error(bad_request) saying what is wrong: not ADOPT, not a JSON object, an unknown
// key, a value of the wrong type, no service or scheme; a ws:// one without its request, another
// with one, a subprotocol that is not one of the mapping's.
[[nodiscard]] Adoption parse_adopt(const Message& frame);

// The daemon's side: sends ADOPT with `fd` on `adopter` and waits for the service's answer
// within `timeout`.
enum class HandOver {
  taken,    // the service has the connection
  refused,  // it said ERROR (`why`): the connection was not taken, the daemon may still serve it
  lost,     // no answer, or ADOPT not sent whole (the adoption connection failed or timed out): the
            // service may or may not have it, so the daemon must not touch it again
};
struct HandOverResult {
  HandOver outcome = HandOver::lost;
  std::string why;  // for the log, when not taken
};
[[nodiscard]] asio::awaitable<HandOverResult> async_hand_over(UnixSocket& adopter, const Adoption& adoption, int fd,
                                                              std::chrono::milliseconds timeout);

// A protocol daemon's whole hand-over of a remote peer's TCP `socket`, after ipcd answered its
// INBOUND with `adopter` (a connection to the service's adoption socket): ADOPT within `timeout`.
// Taken, or lost: the socket leaves this process (nullopt). Refused: the socket is still the
// daemon's alone, and ipcd is asked again for an ordinary connection to the service (counted as
// relayed, `replaces_adoption`) for the daemon to relay to; nullopt when that fails too. (A
// service over its limits takes the connection and refuses the peer itself: the relay must not
// walk past them.) While the service may hold the socket, `session`'s close (a stop) closes only
// `adopter`, never the socket. `label` starts each log line ("inbound from 192.0.2.7:5555").
[[nodiscard]] asio::awaitable<std::optional<UnixSocket>> async_adopt_or_relay(
    TcpSocket& socket, UnixSocket& adopter, const Adoption& adoption, const std::filesystem::path& rundir,
    std::chrono::milliseconds timeout, Session* session, const std::string& label);

}  // namespace ipc
