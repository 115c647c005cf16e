// websocketd's server object (see server.hpp).
#include "server.hpp"

#include <ipc/address.hpp>
#include <ipc/log.hpp>

#include "http_session.hpp"
#include "outbound.hpp"

namespace websocketd {

namespace {

// The Unix side: ipcd's CONNECT on RUNDIR/ws and RUNDIR/wss, and the relays' local connections.
ipc::ServiceOptions service_options(const Settings& settings) {
  ipc::ServiceOptions options;
  options.limits = ipc::ConnectionLimits{settings.max_message, 1024 * 1024};
  options.limits.write_timeout = settings.write_timeout;
  options.max_connections = settings.max_connections;
  options.drain = settings.drain;
  return options;
}

}  // namespace

Server::Server(asio::io_context& io, Settings settings)
    : io_(io),
      settings_(std::move(settings)),
      service_(io, settings_.rundir, service_options(settings_)),
      client_tls_(ipc::tls::client_context({std::nullopt, std::nullopt, settings_.tls.ca})),
      server_tls_(settings_.tls.cert ? std::optional<asio::ssl::context>(ipc::tls::server_context(settings_.tls))
                                     : std::nullopt),
      per_peer_(settings_.max_per_peer),
      budget_(settings_.max_buffered),
      context_{settings_, per_peer_, budget_, service_.server(), nullptr, client_tls_, server_tls_ ? &*server_tls_ : nullptr} {
  // For ipcd: outbound ws:// on RUNDIR/ws, wss:// on RUNDIR/wss.
  // Only ipcd delegates (DESIGN §6): anyone else is refused before a byte of CONNECT is read.
  for (const ipc::Scheme scheme : {ipc::Scheme::ws, ipc::Scheme::wss}) {
    service_.listen(ipc::ServiceName(std::string(ipc::to_string(scheme))),
                    ipc::only_from(settings_.broker, "CONNECT", "ipcd's user", [this, scheme](ipc::Connection& ipcd) {
                      return outbound_session(ipcd, scheme, context_);
                    }));
  }
  if (settings_.listen) {
    tcp::acceptor acceptor(io_);
    boost::system::error_code ec;
    acceptor.open(settings_.listen->protocol(), ec);
    if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor.bind(*settings_.listen, ec);
    if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) throw std::runtime_error("cannot listen on " + ipc::endpoint_text(*settings_.listen) + ": " + ec.message());
    const std::string where = ipc::endpoint_text(acceptor.local_endpoint());
    ipc::log_info(server_tls_ ? "listening for TLS on " : "listening on ", where,
                  settings_.static_dir.empty() ? "" : ", static files from ", settings_.static_dir.string());
    // Browsers and remote websocketd's: a connection that has sent no request for a second is
    // the first to go when every slot is taken and another peer waits.
    auto& peers = service_.server().group({settings_.max_connections, std::chrono::seconds(1), "--max-connections"});
    context_.peers = &peers;
    service_.server().accept(std::move(acceptor), where, peers, [this](tcp::socket socket, ipc::SessionTicket ticket) {
      return http_session(std::move(socket), std::move(ticket), context_);
    });
  } else {
    ipc::log_info("not listening on TCP (--no-listen): outbound ws:// only");
  }
}

int Server::run() { return service_.run(); }

}  // namespace websocketd
