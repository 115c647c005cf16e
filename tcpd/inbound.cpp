// The inbound side: remote tcpd's connect to --listen, send their handshake (DESIGN §7); the
// local ipcd decides with INBOUND (§8); tcpd answers ok and relays to the local service, or
// answers ERROR and closes.
#include <ipc/broker.hpp>
#include <ipc/error.hpp>
#include <ipc/log.hpp>
#include <optional>

#include "handshake.hpp"
#include "tcp_frames.hpp"
#include "tcpd.hpp"

namespace tcpd {
namespace asio = ipc::asio;
using asio::ip::tcp;
using ipc::Error;
using ipc::ErrorCode;

asio::awaitable<void> Tcpd::accept_loop(tcp::acceptor& acceptor) {
  asio::steady_timer backoff(acceptor.get_executor());
  while (!stopping_) {
    // At the cap, stop accepting: peers wait in the backlog until a session ends.
    while (!stopping_ && inbound_sessions_ >= settings_.max_connections) co_await session_ended_.wait();
    if (stopping_) break;
    auto [ec, socket] = co_await acceptor.async_accept(ipc::use_nothrow);
    if (ec == asio::error::operation_aborted || stopping_) break;
    if (ec) {
      // EMFILE and friends: wait a little instead of spinning on the error.
      ipc::log_warn("accept: ", ec.message());
      backoff.expires_after(std::chrono::milliseconds(100));
      co_await backoff.async_wait(ipc::use_nothrow);
      continue;
    }
    asio::co_spawn(acceptor.get_executor(), inbound(std::move(socket)), asio::detached);
  }
}

asio::awaitable<void> Tcpd::inbound(TcpSocket socket) {
  ++inbound_sessions_;
  struct Count {
    Tcpd& self;
    ~Count() {
      --self.inbound_sessions_;
      self.session_ended_.notify_all();
    }
  } count{*this};
  boost::system::error_code ec;
  const auto peer = socket.remote_endpoint(ec);
  if (ec) co_return;
  const std::string peer_text = text(peer);
  tune(socket);
  // This frame lives as long as the relay: the handshake's state lives in accept_from()'s.
  std::optional<ipc::UnixSocket> local = co_await accept_from(socket, peer_text);
  if (!local) co_return;
  ipc::log_debug("inbound from ", peer_text, ": relaying");
  co_await relay(std::move(*local), std::move(socket), std::string());
}

asio::awaitable<std::optional<ipc::UnixSocket>> Tcpd::accept_from(TcpSocket& socket, const std::string& peer_text) {
  // The handshake and ipcd's decision, each under --handshake-timeout.
  std::optional<Error> failure;
  std::optional<ipc::UnixSocket> local;
  try {
    const Handshake handshake =
        parse_handshake(co_await read_frame(socket, max_handshake, settings_.handshake_timeout, "the handshake"));
    if (handshake.password) throw Error(ErrorCode::bad_request, "passwords are not accepted over plain tcp://");
    // The user of a tcp:// URI is not authenticated: no identity for ipcd's rules.
    ipc::InboundRequest request{handshake.service.str(), "tcp", peer_text, ""};
    local.emplace(co_await ipc::async_inbound(settings_.rundir, request, settings_.handshake_timeout));
  } catch (const Error& e) {
    failure = e;
  }
  if (failure) {
    // A peer that broke the protocol, or that ipcd refused: say why, then close.
    ipc::log_info("inbound from ", peer_text, ": ", failure->what());
    try {
      co_await write_frame(socket, ipc::Message::error(failure->payload()), std::chrono::seconds(2));
    } catch (const Error&) {
    }
    co_return std::nullopt;
  }
  try {
    co_await write_frame(socket, ipc::Message::data("ok"), settings_.handshake_timeout);
  } catch (const Error& e) {
    ipc::log_info("inbound from ", peer_text, ": ", e.what());
    co_return std::nullopt;
  }
  co_return local;
}

}  // namespace tcpd
