// The inbound side: remote tcpd's connect to --listen (or --listen-tls, and complete a TLS
// handshake first), send their handshake (DESIGN §7); tcpd authenticates them (§14: a verified
// client certificate, a pre-shared key, a password from --users); the local ipcd decides with
// INBOUND (§8); tcpd answers ok and, for plain tcp:// into a service that adopts, hands it the TCP
// socket (§15: ADOPT, nothing kept), else relays to the local service; or answers ERROR and closes.
#include <sys/socket.h>

#include <boost/asio/thread_pool.hpp>
#include <ipc/address.hpp>
#include <ipc/adopt.hpp>
#include <ipc/broker.hpp>
#include <ipc/error.hpp>
#include <ipc/fd.hpp>
#include <ipc/fd_async.hpp>
#include <ipc/log.hpp>
#include <ipc/tcp_socket.hpp>
#include <optional>

#include "handshake.hpp"
#include "tcp_frames.hpp"
#include "tcpd.hpp"

namespace tcpd {
namespace asio = ipc::asio;
using asio::ip::tcp;
using ipc::Error;
using ipc::ErrorCode;

namespace {

// Says `why` to a plain TCP peer before anything else was written to it: one non-blocking
// send of the ERROR frame, best effort.
void tell(int fd, const Error& why) {
  const std::string frame = ipc::encode(ipc::Message::error(why.payload()));
  (void)::send(fd, frame.data(), frame.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
}

}  // namespace

asio::awaitable<void> Tcpd::inbound(TcpSocket socket, ipc::SessionTicket ticket, bool tls) {
  ipc::Session& session = *ticket;
  // Until its handshake is read, the session may be shed at the cap (the peer is told why on
  // plain TCP, where nothing else has been written yet); a shutdown ends whatever waits on the
  // socket, which stays open (and the same descriptor) until this frame ends.
  const int fd = socket.native_handle();
  session.close = [fd, tls](const Error* why) {
    if (why != nullptr && !tls) tell(fd, *why);
    ::shutdown(fd, SHUT_RDWR);
  };
  session.idle_since = [accepted = ipc::Session::Clock::now()]() -> std::optional<ipc::Session::Clock::time_point> {
    return accepted;
  };
  // At stop, a peer that has not spoken has nothing in flight: it goes at once.
  session.drain = [fd] { ::shutdown(fd, SHUT_RDWR); };
  boost::system::error_code ec;
  const auto peer = socket.remote_endpoint(ec);
  if (ec) co_return;
  const std::string peer_text = ipc::endpoint_text(peer);  // the peer form of DESIGN §8
  const std::string address = ipc::canonical_address(peer.address());
  const auto slot = per_peer_.take(address);
  if (!slot) {
    // Before TLS and the handshake: nothing of this connection is worth the work.
    const Error why(ErrorCode::unavailable, address + " already holds " + std::to_string(per_peer_.max()) +
                                                " connections to this tcpd (--max-per-peer)");
    ipc::log_info("inbound from ", peer_text, ": ", why.text());
    if (!tls) tell(fd, why);
    co_return;
  }
  ipc::tune_tcp(socket.native_handle(), settings_.keepalive);
  std::optional<RemoteStream> remote;
  if (tls)
    remote.emplace(std::move(socket), server_tls_->native_handle(), TlsRole::server);
  else
    remote.emplace(std::move(socket));
  // This frame lives as long as the relay: the handshake's state lives in accept_from()'s.
  std::optional<Accepted> accepted = co_await accept_from(*remote, session, peer_text);
  if (!accepted) co_return;
  std::optional<ipc::UnixSocket> local;
  if (accepted->adoption) {
    const ipc::Adoption adoption{accepted->request, settings_.max_per_peer, {}, {}};
    local = co_await ipc::async_adopt_or_relay(remote->socket(), accepted->local, adoption, settings_.rundir,
                                               settings_.handshake_timeout, accepted->session,
                                               "inbound from " + peer_text);
    if (!local) co_return;
  } else {
    local.emplace(std::move(accepted->local));
  }
  ipc::log_debug("inbound from ", peer_text, ": relaying");
  co_await relay(session, std::move(*local), std::move(*remote), std::string(), Side::inbound);
}

asio::awaitable<std::optional<Tcpd::Accepted>> Tcpd::accept_from(RemoteStream& remote, ipc::Session& session,
                                                                 const std::string& peer_text) {
  // The TLS handshake, the remote handshake and ipcd's decision, each under --handshake-timeout.
  std::optional<ErrorCode> tls_failed;
  try {
    co_await remote.handshake(settings_.handshake_timeout);
  } catch (const Error& e) {
    // Without TLS up there is no channel to say why in: the log says it, the peer sees its own
    // handshake fail (with the alert OpenSSL sent).
    ipc::log_info("inbound from ", peer_text, ": ", e.what());
    tls_failed = e.code();
  }
  if (tls_failed == ErrorCode::auth_failed) {
    // Closing now, with the peer's last bytes unread, would make the kernel answer with a reset
    // that can overtake the alert.
    co_await ipc::async_linger(remote.socket(), std::chrono::seconds(1), max_handshake);
  }
  if (tls_failed) co_return std::nullopt;
  std::optional<Error> failure;
  std::optional<Accepted> accepted;
  try {
    const Handshake handshake =
        parse_handshake(co_await read_frame(remote, max_handshake, settings_.handshake_timeout, "the handshake"));
    // It has spoken: from now on it is a peer being answered, not one holding a slot silently,
    // and at stop it gets its answer.
    session.idle_since = nullptr;
    session.drain = nullptr;
    // The user of a tcp:// URI is not authenticated: no identity for ipcd's rules.
    ipc::InboundRequest request{handshake.service.str(), ipc::Scheme::tcp, peer_text, "", ""};
    if (const SSL* ssl = remote.ssl()) {
      request.scheme = ipc::Scheme::tls;
      request.certificate = ipc::tls::peer_name(ssl);
      request.identity = psk_identity(ssl);
      if (request.identity.empty()) request.identity = request.certificate;
      if (handshake.password) {
        if (!settings_.users) throw Error(ErrorCode::auth_failed, "this tcpd takes no passwords (it has no --users)");
        if (!co_await check_password(handshake.user, *handshake.password))
          throw Error(ErrorCode::auth_failed, "wrong user name or password (user '" + handshake.user + "')");
        request.identity = handshake.user;
      }
    } else if (handshake.password) {
      throw Error(ErrorCode::bad_request, "passwords are not accepted over plain tcp://");
    } else {
      // Plain TCP can go to the service itself (TLS lives in this process: no kTLS here).
      request.adopt = settings_.handoff;
    }
    ipc::InboundAnswer answer = co_await ipc::async_inbound_answer(settings_.rundir, request, settings_.handshake_timeout);
    accepted.emplace(Accepted{std::move(answer.socket), answer.adoption, request, &session});
  } catch (const Error& e) {
    failure = e;
  } catch (const std::exception& e) {
    failure = Error(ErrorCode::internal, e.what());
  }
  if (failure) {
    // A peer that broke the protocol, or that ipcd refused: say why, then close.
    ipc::log_info("inbound from ", peer_text, ": ", failure->what());
    try {
      co_await write_frame(remote, ipc::Message::error(failure->payload()), std::chrono::seconds(2));
    } catch (const Error& e) {
      ipc::log_debug("inbound from ", peer_text, ": the refusal was not delivered: ", e.what());
    }
    co_return std::nullopt;
  }
  try {
    co_await write_frame(remote, ipc::Message::data("ok"), settings_.handshake_timeout);
  } catch (const Error& e) {
    ipc::log_info("inbound from ", peer_text, ": ", e.what());
    co_return std::nullopt;
  }
  co_return accepted;
}

namespace {

// The check itself, run on the pool's thread. A plain function, not a capturing lambda: GCC 12
// destroys a coroutine lambda's captures twice when co_spawn takes it by value.
asio::awaitable<bool> check_on_pool(const Users& users, std::string user, std::string password) {
  co_return users.check(user, password);
}

}  // namespace

asio::awaitable<bool> Tcpd::check_password(std::string user, std::string password) {
  co_return co_await asio::co_spawn(password_checks_, check_on_pool(*settings_.users, std::move(user), std::move(password)),
                                    asio::use_awaitable);
}

}  // namespace tcpd
