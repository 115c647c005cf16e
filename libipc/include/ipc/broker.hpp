// Talking to ipcd, the broker (DESIGN §5, §8): the lookup a client makes for a routed
// service, and the INBOUND request a protocol daemon makes for a remote peer. Both end with
// ipcd passing a connected fd (SCM_RIGHTS) or an ERROR whose code reaches the caller as
// ipc::Error.
#pragma once

#include <chrono>
#include <filesystem>

#include <optional>
#include <string>
#include <string_view>

#include "ipc/asio.hpp"
#include "ipc/uri.hpp"
#include "ipc/fd.hpp"
#include "ipc/service_name.hpp"

namespace ipc {

// ipcd's sockets in the run directory.
inline constexpr const char* broker_socket = "ipc";
inline constexpr const char* legacy_broker_socket = "network";
// The names of the suite's own sockets (ipcd's, the protocol daemons') and a service's adoption
// socket NAME@adopt (DESIGN §15): never services. A connection ipcd opened to one of them would
// carry ipcd's uid and void the daemons' checks of who asks (DESIGN §6), so ipcd refuses them as
// a name asked for, as a redirection's or route's target and for remote peers. Returns why
// ("reserved name 'tcp': ..."), or "" for an ordinary name.
[[nodiscard]] std::string why_reserved(std::string_view name);

// Largest request ipcd takes (LOOKUP, INBOUND, CONNECT, STATUS commands).
inline constexpr std::size_t max_request_payload = 64 * 1024;

// A connection to ipcd on RUNDIR/ipc; nullopt when nothing answers there (ipcd is not running:
// no socket file, or a stale one). Throws ipc::Error for anything else (timeout: ipcd is there
// but its backlog stayed full).
[[nodiscard]] std::optional<UniqueFd> connect_broker(const std::filesystem::path& rundir,
                                                     std::chrono::milliseconds timeout);
[[nodiscard]] asio::awaitable<std::optional<UnixSocket>> async_connect_broker(std::filesystem::path rundir,
                                                                              std::chrono::milliseconds timeout);

// LOOKUP "SERVICE;ROUTES" on a connection to ipcd. Returns the fd of the connection to the
// service, or throws ipc::Error with ipcd's answer.
[[nodiscard]] UniqueFd lookup(UniqueFd broker, const ServiceName& service, std::string_view routes,
                              std::chrono::milliseconds timeout);
[[nodiscard]] asio::awaitable<UnixSocket> async_lookup(UnixSocket broker, ServiceName service, std::string routes,
                                                       std::chrono::milliseconds timeout);

// What a protocol daemon tells ipcd about a remote peer (DESIGN §8).
struct InboundRequest {
  std::string service;          // as the remote asked for it (ipcd validates it)
  Scheme scheme = Scheme::tcp;  // tcp, tls, ws, wss, udp: never unix
  std::string peer;             // "192.0.2.7:51234", "[2001:db8::1]:443"
  std::string identity;         // "" when not authenticated
  // The name a verified TLS certificate of the peer proves, "" when none. Sent apart from the
  // identity so that ipcd lets only a certificate stand for a host name in its rules (a PSK
  // identity or a user name must not pass for "tls:example.com").
  std::string certificate;
  // The daemon can give the connection itself to the service (DESIGN §15): ipcd answers with a
  // connection to the service's adoption socket ("adopt") when it has one, else as usual ("ok").
  bool adopt = false;
  // This request follows an adoption the service refused: ipcd counts the connection as relayed
  // instead of handed over (ipcctl status).
  bool replaces_adoption = false;
};

// The INBOUND payload: {"service", "scheme", "peer", and "identity", "certificate", "adopt",
// "replaces_adoption" when set}.
[[nodiscard]] std::string encode_inbound_request(const InboundRequest& request);
// Parses it back. Throws ipc::Error(bad_request) saying what is wrong: not a JSON object, an
// unknown key, a value of the wrong type, no service or scheme, a scheme that is not remote.
// The service name and the peer address are the receiver's to check.
[[nodiscard]] InboundRequest parse_inbound_request(const Message& frame);

// INBOUND on RUNDIR/ipc. Returns the local service's connection.
[[nodiscard]] asio::awaitable<UnixSocket> async_inbound(std::filesystem::path rundir, InboundRequest request,
                                                        std::chrono::milliseconds timeout);
// The same for a request with `adopt` set: the connection is to the service's adoption socket
// when `adoption` is true (send it ADOPT, ipc/adopt.hpp), else to the service itself.
struct InboundAnswer {
  UnixSocket socket;
  bool adoption = false;
};
[[nodiscard]] asio::awaitable<InboundAnswer> async_inbound_answer(std::filesystem::path rundir, InboundRequest request,
                                                                  std::chrono::milliseconds timeout);

}  // namespace ipc
