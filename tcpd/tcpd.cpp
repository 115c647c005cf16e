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

tcp::endpoint parse_listen(const std::string& value) {
  const auto colon = value.rfind(':');
  if (colon == std::string::npos || colon + 1 == value.size())
    throw std::invalid_argument("'" + value + "': expected HOST:PORT");
  std::string host = value.substr(0, colon);
  const std::string port_text = value.substr(colon + 1);
  if (port_text.size() > 5 || port_text.find_first_not_of("0123456789") != std::string::npos ||
      std::stol(port_text) > 65535)
    throw std::invalid_argument("'" + value + "': the port must be a number from 0 to 65535");
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  if (host == "localhost") host = "127.0.0.1";
  boost::system::error_code ec;
  const auto address = asio::ip::make_address(host, ec);
  if (ec) throw std::invalid_argument("'" + value + "': '" + host + "' is not an IP address (or localhost)");
  return {address, static_cast<std::uint16_t>(std::stol(port_text))};
}

Tcpd::Tcpd(ipc::Service& service, Settings settings)
    : service_(service),
      settings_(std::move(settings)),
      client_tls_(ipc::tls::client_context(settings_.tls)),
      session_ended_(service.io().get_executor()),
      per_peer_(settings_.max_per_peer) {
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
  auto& acceptor = acceptors_.emplace_back(service_.io());
  boost::system::error_code ec;
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(tcp::acceptor::max_listen_connections, ec);
  if (ec) throw std::runtime_error("cannot listen on " + ipc::endpoint_text(endpoint) + ": " + ec.message());
  ipc::log_info(tls ? "listening for TLS on " : "listening on ", ipc::endpoint_text(acceptor.local_endpoint()));
  asio::co_spawn(service_.io(), accept_loop(acceptor, tls), asio::detached);
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
  service_.on_stop([this] { stop(); });
}

void Tcpd::stop() {
  stopping_ = true;
  for (auto& acceptor : acceptors_) {
    boost::system::error_code ignored;
    acceptor.close(ignored);
  }
  // Shutdown is cancellation: relays end now, so their sessions end well within the grace period.
  for (Relay* relay : relays_) relay->close();
  session_ended_.notify_all();
}

asio::awaitable<void> Tcpd::relay(ipc::UnixSocket unix_side, RemoteStream remote, std::string to_remote_first) {
  Relay running(std::move(unix_side), std::move(remote));
  if (stopping_) co_return;
  relays_.push_back(&running);
  struct Registered {
    std::list<Relay*>& relays;
    std::list<Relay*>::iterator self;
    std::shared_ptr<bool> alive;
    ~Registered() {
      if (*alive) relays.erase(self);
    }
  } registered{relays_, std::prev(relays_.end()), alive_};
  co_await running.run(std::move(to_remote_first));
}

}  // namespace tcpd
