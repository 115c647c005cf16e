// websocketd's server object: the HTTP/WebSocket listener on TCP, plain or, with --tls-cert and
// --tls-key, TLS (inbound: browsers and remote websocketd's reaching local services) and the
// libipc service on RUNDIR/ws and RUNDIR/wss (outbound: ipcd's CONNECT for ws:// and wss://
// URIs). One io_context, one coroutine per connection.
#pragma once

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <optional>

#include <boost/asio/ssl/context.hpp>
#include <ipc/peer_limit.hpp>
#include <ipc/service.hpp>
#include <ipc/tls.hpp>
#include <ipc/trust.hpp>

#include "beast.hpp"
#include "host_names.hpp"

#include "origin.hpp"

namespace websocketd {

struct Settings {
  std::filesystem::path rundir;
  std::optional<tcp::endpoint> listen;  // nullopt: --no-listen
  std::filesystem::path static_dir;     // empty: no static files
  OriginPolicy origins;
  HostPolicy hosts;  // the names Host may give (--host), besides the listener's own
  std::size_t max_message = ipc::default_max_payload;
  std::size_t max_connections = 1024;
  std::size_t max_per_peer = 0;  // TCP connections one remote address may hold (0: no limit)
  std::size_t max_buffered = 256 * 1024 * 1024;  // bytes in unfinished messages, all connections (0: no bound)
  std::chrono::milliseconds idle_timeout{60'000};  // a ping after half of it, dropped after all of it
  std::chrono::milliseconds timeout{10'000};       // handshakes, ipcd requests, outbound connects
  std::chrono::milliseconds drain{5'000};          // at stop, for open sessions to finish (--drain)
  std::chrono::milliseconds write_timeout{60'000};  // a peer that takes nothing for this long is dropped
  std::chrono::seconds keepalive{60};  // --keepalive: every TCP connection's (ipc::tune_tcp)
  // ws:// into a service that adopts: hand it the TCP socket (DESIGN §15) rather than relay
  // (--no-handoff turns it off).
  bool handoff = true;
  ipc::tls::Files tls;  // --tls-cert/--tls-key: the listener speaks TLS; --tls-ca: trust for wss://
  // Who may send CONNECT on RUNDIR/ws and RUNDIR/wss (--broker-user): ipcd only, never a local
  // program that wants past ipcd's out rules (or a port scanner through our HTTP status).
  // Set by main() (ipc::trusted_users_flag); empty trusts nobody.
  ipc::TrustedUsers broker;
};

// What every session needs to see of the server.
struct Context {
  const Settings& settings;
  ipc::PeerLimit& per_peer;  // by remote address (--max-per-peer)
  MessageBudget& budget;     // unfinished messages (--max-buffered)
  ipc::Server& server;  // every session runs on it: stopping() says whether the drain began
  ipc::Server::Group* peers = nullptr;  // the TCP listener's sessions (--max-connections)
  asio::ssl::context& client_tls;  // outbound wss://
  asio::ssl::context* server_tls;  // the listener's TLS, nullptr when it is plain
};

class Server {
 public:
  // Throws std::runtime_error naming a certificate, key or CA file that cannot be used, or a
  // listener that cannot be bound.
  Server(asio::io_context& io, Settings settings);
  // Reports READY=1, serves until SIGTERM/SIGINT, returns the exit status.
  int run();

 private:
  asio::io_context& io_;
  Settings settings_;
  ipc::Service service_;
  asio::ssl::context client_tls_;
  std::optional<asio::ssl::context> server_tls_;
  ipc::PeerLimit per_peer_;
  MessageBudget budget_;
  Context context_;
};

}  // namespace websocketd
