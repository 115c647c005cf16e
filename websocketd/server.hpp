// websocketd's server object: the HTTP/WebSocket listener on TCP, plain or, with --tls-cert and
// --tls-key, TLS (inbound: browsers and remote websocketd's reaching local services) and the
// libipc service on RUNDIR/ws and RUNDIR/wss (outbound: ipcd's CONNECT for ws:// and wss://
// URIs). One io_context, one coroutine per connection.
#pragma once

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <memory>
#include <optional>

#include <boost/asio/ssl/context.hpp>
#include <ipc/peer_limit.hpp>
#include <ipc/service.hpp>
#include <ipc/tls.hpp>
#include <ipc/trust.hpp>

#include "beast.hpp"
#include "host_names.hpp"
#include "message_budget.hpp"
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
  ipc::tls::Files tls;  // --tls-cert/--tls-key: the listener speaks TLS; --tls-ca: trust for wss://
  // Who may send CONNECT on RUNDIR/ws and RUNDIR/wss (--broker-user): ipcd only, never a local
  // program that wants past ipcd's out rules (or a port scanner through our HTTP status).
  // Set by main() (ipc::trusted_users_flag); empty trusts nobody.
  ipc::TrustedUsers broker;
};

// Counts the WebSocket/HTTP connections open at once; a slot is held by each connection's
// coroutine (and handed to its relay). Shared so a slot may outlive the Server during teardown.
class ConnectionSlots {
 public:
  explicit ConnectionSlots(const asio::any_io_executor& executor) : freed_(executor) {}
  std::size_t open = 0;
  ipc::Signal& freed() noexcept { return freed_; }

 private:
  ipc::Signal freed_;
};

class ConnectionSlot {
 public:
  explicit ConnectionSlot(std::shared_ptr<ConnectionSlots> slots) : slots_(std::move(slots)) { ++slots_->open; }
  ConnectionSlot(ConnectionSlot&&) noexcept = default;
  ConnectionSlot& operator=(ConnectionSlot&&) = delete;
  ~ConnectionSlot() {
    if (!slots_) return;
    --slots_->open;
    slots_->freed().notify_all();
  }
  // The connection's place in its address's count (--max-per-peer), held as long as this slot:
  // through the HTTP requests and, after an upgrade, the relay.
  void also_hold(ipc::PeerLimit::Slot peer) { peer_.emplace(std::move(peer)); }

 private:
  std::shared_ptr<ConnectionSlots> slots_;
  std::optional<ipc::PeerLimit::Slot> peer_;
};

// What every session needs to see of the server.
struct Context {
  const Settings& settings;
  ipc::PeerLimit& per_peer;  // by remote address (--max-per-peer)
  MessageBudget& budget;     // unfinished messages (--max-buffered)
  ipc::Service& service;  // tracks relays as sessions: closed on shutdown, waited for
  const bool& stopping;
  asio::ssl::context& client_tls;  // outbound wss://
  asio::ssl::context* server_tls;  // the listener's TLS, nullptr when it is plain
};

class Server {
 public:
  // Throws std::runtime_error naming a certificate, key or CA file that cannot be used.
  Server(asio::io_context& io, Settings settings);
  // Reports READY=1, serves until SIGTERM/SIGINT, returns the exit status.
  int run();

 private:
  asio::awaitable<void> accept_loop();

  asio::io_context& io_;
  Settings settings_;
  ipc::Service service_;
  bool stopping_ = false;
  asio::ssl::context client_tls_;
  std::optional<asio::ssl::context> server_tls_;
  ipc::PeerLimit per_peer_;
  MessageBudget budget_;
  Context context_;
  std::optional<tcp::acceptor> acceptor_;
  std::shared_ptr<ConnectionSlots> slots_;
};

}  // namespace websocketd
