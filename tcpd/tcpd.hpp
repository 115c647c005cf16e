// Tcpd: the TCP protocol daemon's job (DESIGN §6, §7, §8).
//   outbound  ipcd's CONNECT on RUNDIR/tcp (outbound.cpp): connect to the remote tcpd, handshake,
//             answer ipcd, then relay between ipcd's (now the client's) Unix connection and TCP.
//   inbound   remote tcpd's on --listen (inbound.cpp): read the handshake, ask the local ipcd
//             (INBOUND), answer, then relay between TCP and the local service's connection.
// RUNDIR/tls answers unsupported-scheme until TLS exists. The relays themselves are relay.hpp.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <filesystem>
#include <ipc/connection.hpp>
#include <ipc/service.hpp>
#include <ipc/uri.hpp>
#include <list>
#include <optional>
#include <string>
#include <vector>

#include "relay.hpp"

namespace tcpd {

struct Settings {
  std::filesystem::path rundir;
  std::vector<boost::asio::ip::tcp::endpoint> listen;
  std::chrono::milliseconds connect_timeout{10000};
  std::chrono::milliseconds handshake_timeout{10000};
  std::size_t max_connections = 4096;
};

// "127.0.0.1:9000", "[::1]:9000", "localhost:9000" (port 0: any free port).
// Throws std::invalid_argument saying why.
[[nodiscard]] boost::asio::ip::tcp::endpoint parse_listen(const std::string& text);

class Tcpd {
 public:
  Tcpd(ipc::Service& service, Settings settings);

  // Binds the --listen sockets (logging "listening on ADDRESS:PORT") and serves RUNDIR/tcp and
  // RUNDIR/tls. Throws std::runtime_error when a socket cannot be bound.
  void start();

 private:
  // outbound.cpp
  ipc::asio::awaitable<void> outbound(ipc::Connection& ipcd);
  // Everything before the relay: ipcd's request, the connection, the handshake, ipcd's answer.
  // The connected socket once ipcd has its ok; nullopt when the answer was the remote's ERROR or
  // ipcd went away. Throws ipc::Error for everything else.
  ipc::asio::awaitable<std::optional<TcpSocket>> connect_for(ipc::Connection& ipcd);
  ipc::asio::awaitable<TcpSocket> open_remote(const ipc::Uri& uri);
  // inbound.cpp
  ipc::asio::awaitable<void> accept_loop(boost::asio::ip::tcp::acceptor& acceptor);
  ipc::asio::awaitable<void> inbound(TcpSocket socket);
  // The peer's handshake, ipcd's decision and the answer to the peer: the local service's
  // connection after ok, nullopt after an ERROR (sent) or a failed write.
  ipc::asio::awaitable<std::optional<ipc::UnixSocket>> accept_from(TcpSocket& socket, const std::string& peer_text);
  // tcpd.cpp
  ipc::asio::awaitable<void> relay(ipc::UnixSocket unix_side, TcpSocket tcp_side, std::string to_tcp_first);
  void stop();

  ipc::Service& service_;
  Settings settings_;
  std::list<boost::asio::ip::tcp::acceptor> acceptors_;
  std::list<Relay*> relays_;  // closed at shutdown
  std::size_t inbound_sessions_ = 0;
  ipc::Signal session_ended_;
  bool stopping_ = false;
};

}  // namespace tcpd
