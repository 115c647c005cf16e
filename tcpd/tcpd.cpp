// The TCP protocol daemon: its TLS contexts, its sockets, the relays it runs, shutdown (see tcpd.hpp).
#include "tcpd.hpp"

#include <ipc/address.hpp>
#include <ipc/error.hpp>
#include <ipc/log.hpp>
#include <stdexcept>

#include "tcp_frames.hpp"

namespace tcpd {
namespace asio = ipc::asio;
using asio::ip::tcp;
using ipc::Error;
using ipc::ErrorCode;

Tcpd::Tcpd(ipc::Service& service, Settings settings)
    : service_(service),
      settings_(std::move(settings)),
      client_tls_(ipc::tls::client_context(settings_.tls)),
      per_peer_(settings_.max_per_peer),
      // A peer that has not sent its handshake after a second is the first to go when every
      // slot is taken and another peer waits.
      inbound_(service.server().group({settings_.max_connections, std::chrono::seconds(1), "--max-connections"})) {
  offer_psk(client_tls_.native_handle());
  if (!settings_.listen_tls.empty()) {
    server_tls_.emplace(ipc::tls::server_context(settings_.tls));
    SSL_CTX* server = server_tls_->native_handle();
    accept_psk(server, &settings_.psk);
    // Nobody resumes: session tickets would only cost every handshake a message.
    SSL_CTX_set_num_tickets(server, 0);
  }
}

void Tcpd::bind(const tcp::endpoint& endpoint, bool tls) {
  tcp::acceptor acceptor(service_.io());
  boost::system::error_code ec;
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(tcp::acceptor::max_listen_connections, ec);
  if (ec) throw std::runtime_error("cannot listen on " + ipc::endpoint_text(endpoint) + ": " + ec.message());
  const std::string where = ipc::endpoint_text(acceptor.local_endpoint());
  ipc::log_info(tls ? "listening for TLS on " : "listening on ", where);
  service_.server().accept(std::move(acceptor), where, inbound_, [this, tls](TcpSocket socket, ipc::SessionTicket ticket) {
    return inbound(std::move(socket), std::move(ticket), tls);
  });
}

void Tcpd::start() {
  for (const auto& endpoint : settings_.listen) bind(endpoint, false);
  for (const auto& endpoint : settings_.listen_tls) bind(endpoint, true);
  // Only ipcd delegates (DESIGN §6): anyone else is refused before a byte of CONNECT is read.
  for (const ipc::Scheme scheme : {ipc::Scheme::tcp, ipc::Scheme::tls}) {
    service_.listen(ipc::ServiceName(std::string(ipc::to_string(scheme))),
                    ipc::only_from(settings_.broker, "CONNECT", "ipcd's user",
                                   [this, scheme](ipc::Connection& c) { return outbound(c, scheme); }));
  }
}

asio::awaitable<void> Tcpd::relay(ipc::Session& session, ipc::UnixSocket unix_side, RemoteStream remote,
                                  std::string to_remote_first, Side side) {
  Relay running(std::move(unix_side), std::move(remote), settings_.write_timeout);
  // An idle relay is a connection in use: never shed. At the end of the drain it is closed.
  // Draining an outbound relay stops reading the client, so the exchange in flight completes;
  // an inbound one runs on until its remote side ends it (reading the remote no more could cut
  // a request on the wire).
  struct Hooks {
    ipc::Session& session;
    ~Hooks() {
      // `running` is gone after this frame: nothing may reach it through the session.
      session.close = nullptr;
      session.drain = nullptr;
    }
  } hooks{session};
  session.idle_since = nullptr;
  session.close = [&running](const ipc::Error*) { running.close(); };
  if (side == Side::outbound) {
    session.drain = [&running] { running.finish(); };
    if (service_.server().stopping()) running.finish();
  } else {
    session.drain = nullptr;
  }
  co_await running.run(std::move(to_remote_first));
}

}  // namespace tcpd
