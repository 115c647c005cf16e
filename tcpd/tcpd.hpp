// Tcpd: the TCP protocol daemon's job (DESIGN §6, §7, §8, §14).
//   outbound  ipcd's CONNECT on RUNDIR/tcp and RUNDIR/tls (outbound.cpp): connect to the remote
//             tcpd (for tls:// the TLS handshake: the server verified, a PSK or our certificate
//             presented), the remote handshake, answer ipcd; for tcp:// the answer carries the
//             TCP socket itself and tcpd keeps nothing (DESIGN §15), for tls:// tcpd relays
//             between ipcd's (now the client's) Unix connection and the remote.
//   inbound   remote tcpd's on --listen and --listen-tls (inbound.cpp): (TLS handshake,) read the
//             handshake, authenticate (certificate, PSK, password), ask the local ipcd (INBOUND),
//             answer; for tcp:// hand the TCP socket to the service in ADOPT when it adopts
//             (DESIGN §15), else relay between the remote and the local service's connection.
// The relays themselves are relay.hpp; the connection to the remote, plain or TLS, is
// remote_stream.hpp; pre-shared keys and the users file are credentials.hpp.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <chrono>
#include <filesystem>
#include <ipc/connection.hpp>
#include <ipc/peer_limit.hpp>
#include <ipc/server.hpp>
#include <ipc/service.hpp>
#include <ipc/tls.hpp>
#include <ipc/trust.hpp>
#include <ipc/uri.hpp>
#include <optional>
#include <string>
#include <vector>

#include "credentials.hpp"
#include "relay.hpp"

namespace tcpd {

struct Settings {
  std::filesystem::path rundir;
  std::vector<boost::asio::ip::tcp::endpoint> listen;
  std::vector<boost::asio::ip::tcp::endpoint> listen_tls;
  ipc::tls::Files tls;   // --tls-cert, --tls-key, --tls-ca
  PskKeys psk;           // --psk
  std::optional<Users> users;  // --users
  std::chrono::milliseconds connect_timeout{10000};
  std::chrono::milliseconds handshake_timeout{10000};
  std::chrono::milliseconds write_timeout{60000};  // a relay's side that takes nothing for this long is dropped
  std::chrono::seconds keepalive{60};  // --keepalive: every remote connection's (ipc::tune_tcp)
  // Hand plain tcp:// connections over instead of relaying them (--no-handoff turns it off).
  bool handoff = true;
  std::size_t max_connections = 4096;
  std::size_t max_per_peer = 0;  // inbound TCP connections one remote address may hold (0: no limit)
  // Who may send CONNECT on RUNDIR/tcp and RUNDIR/tls (--broker-user): ipcd, never a local
  // program that wants past ipcd's out rules or this host's keys.
  // Set by main() (ipc::trusted_users_flag); empty trusts nobody.
  ipc::TrustedUsers broker;
};


class Tcpd {
 public:
  // Builds the TLS contexts: throws std::runtime_error naming a certificate, key or CA file that
  // cannot be used.
  Tcpd(ipc::Service& service, Settings settings);
  Tcpd(const Tcpd&) = delete;
  Tcpd& operator=(const Tcpd&) = delete;

  // Binds the --listen and --listen-tls sockets (logging "listening on ADDRESS:PORT" and
  // "listening for TLS on ADDRESS:PORT") and serves RUNDIR/tcp and RUNDIR/tls, all on the
  // Service's ipc::Server (one registry, one stop and drain). Throws std::runtime_error when a
  // socket cannot be bound.
  void start();

 private:
  // Which side of the connection the relay's Unix socket is: the client (outbound) or the
  // local service (inbound). It decides how the relay drains at stop.
  enum class Side { outbound, inbound };

  // outbound.cpp
  ipc::asio::awaitable<void> outbound(ipc::Connection& ipcd, ipc::Scheme scheme);
  // Everything before ipcd's answer: ipcd's request, the connection, the handshakes. The
  // connection once the remote said ok; nullopt when it said ERROR (passed on to ipcd) or ipcd
  // went away. Throws ipc::Error for everything else.
  struct Connected {
    RemoteStream remote;
    std::string uri;  // for the log
  };
  ipc::asio::awaitable<std::optional<Connected>> connect_for(ipc::Connection& ipcd, ipc::Scheme scheme);
  // For tls://: the TLS session for `uri` (server name, PSK), its handshake. Throws ipc::Error.
  ipc::asio::awaitable<RemoteStream> secure(TcpSocket socket, const ipc::Uri& uri);
  // inbound.cpp
  ipc::asio::awaitable<void> inbound(TcpSocket socket, ipc::SessionTicket ticket, bool tls);
  // The peer's (TLS and remote) handshake, ipcd's decision and the answer to the peer: after ok,
  // the local service's connection or its adoption socket; nullopt after an ERROR (sent) or a
  // failed write.
  struct Accepted {
    ipc::UnixSocket local;
    bool adoption = false;  // `local` is the service's adoption socket
    ipc::InboundRequest request;
    ipc::Session* session = nullptr;  // the peer's session, whose hooks the hand-over changes
  };
  ipc::asio::awaitable<std::optional<Accepted>> accept_from(RemoteStream& remote, ipc::Session& session,
                                                            const std::string& peer_text);
  // Whether PASSWORD is USER's (--users), checked on password_checks_ so that PBKDF2 does not
  // stall the relays.
  ipc::asio::awaitable<bool> check_password(std::string user, std::string password);
  // tcpd.cpp
  void bind(const boost::asio::ip::tcp::endpoint& endpoint, bool tls);
  // Relays for `session`, which from now on is ended by closing the relay, drains as `side`
  // says, and is never shed.
  ipc::asio::awaitable<void> relay(ipc::Session& session, ipc::UnixSocket unix_side, RemoteStream remote,
                                   std::string to_remote_first, Side side);

  ipc::Service& service_;
  Settings settings_;
  boost::asio::ssl::context client_tls_;
  std::optional<boost::asio::ssl::context> server_tls_;  // with --listen-tls
  boost::asio::thread_pool password_checks_{1};
  ipc::PeerLimit per_peer_;         // by remote address (--max-per-peer)
  ipc::Server::Group& inbound_;     // the --listen and --listen-tls peers (--max-connections)
};

}  // namespace tcpd
