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
  options.max_connections = settings.max_connections + 64;
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
      context_{settings_, per_peer_, budget_, service_, stopping_, client_tls_, server_tls_ ? &*server_tls_ : nullptr},
      slots_(std::make_shared<ConnectionSlots>(io.get_executor())) {
  // For ipcd: outbound ws:// on RUNDIR/ws, wss:// on RUNDIR/wss.
  // Only ipcd delegates (DESIGN §6): anyone else is refused before a byte of CONNECT is read.
  for (const ipc::Scheme scheme : {ipc::Scheme::ws, ipc::Scheme::wss}) {
    service_.listen(ipc::ServiceName(std::string(ipc::to_string(scheme))),
                    ipc::only_from(settings_.broker, "CONNECT", "ipcd's user", [this, scheme](ipc::Connection& ipcd) {
                      return outbound_session(ipcd, scheme, context_);
                    }));
  }
  if (settings_.listen) {
    acceptor_.emplace(io_);
    acceptor_->open(settings_.listen->protocol());
    acceptor_->set_option(asio::socket_base::reuse_address(true));
    boost::system::error_code ec;
    acceptor_->bind(*settings_.listen, ec);
    if (ec) throw std::runtime_error("cannot listen on " + ipc::endpoint_text(*settings_.listen) + ": " + ec.message());
    acceptor_->listen(asio::socket_base::max_listen_connections);
    ipc::log_info(server_tls_ ? "listening for TLS on " : "listening on ", ipc::endpoint_text(acceptor_->local_endpoint()),
                  settings_.static_dir.empty() ? "" : ", static files from ", settings_.static_dir.string());
    asio::co_spawn(io_, accept_loop(), asio::detached);
  } else {
    ipc::log_info("not listening on TCP (--no-listen): outbound ws:// only");
  }
  service_.on_stop([this] {
    stopping_ = true;
    if (acceptor_) {
      boost::system::error_code ignored;
      acceptor_->close(ignored);
    }
  });
}

int Server::run() { return service_.run(); }

asio::awaitable<void> Server::accept_loop() {
  asio::steady_timer backoff(io_);
  while (!stopping_) {
    // At the cap, stop accepting: further clients wait in the backlog.
    while (!stopping_ && slots_->open >= settings_.max_connections) co_await slots_->freed().wait();
    if (stopping_) break;
    auto [ec, socket] = co_await acceptor_->async_accept(use_nothrow);
    if (stopping_ || ec == asio::error::operation_aborted) break;
    if (ec) {
      // EMFILE and friends: back off instead of spinning on the error.
      ipc::log_warn("accept: ", ec.message());
      backoff.expires_after(std::chrono::milliseconds(100));
      co_await backoff.async_wait(use_nothrow);
      continue;
    }
    asio::co_spawn(io_, http_session(std::move(socket), ConnectionSlot(slots_), context_), asio::detached);
  }
}

}  // namespace websocketd
