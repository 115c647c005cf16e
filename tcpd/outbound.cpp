// The outbound side: ipcd's CONNECT on RUNDIR/tcp or RUNDIR/tls (DESIGN §6) becomes a TCP
// connection to the remote tcpd, for tls:// the TLS handshake (§14: the server's certificate
// checked against the trust and the URI's host, or a pre-shared key), the remote handshake (§7),
// ipcd's answer: for tcp:// with the TCP socket attached (DESIGN §15: the client writes its frames
// straight onto TCP and tcpd keeps nothing), for tls:// followed by the relay.
#include <ipc/delegation.hpp>
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

asio::awaitable<void> Tcpd::outbound(ipc::Connection& ipcd, ipc::Scheme scheme) {
  // This frame lives as long as the relay: everything else lives in connect_for()'s, gone by now.
  std::optional<Connected> connected = co_await connect_for(ipcd, scheme);
  if (!connected) co_return;
  RemoteStream& remote = connected->remote;
  // ipcd sends nothing after its request, so the Connection holds no byte past it; one that did
  // would lose those bytes in a handoff, and gets the relay, which sends them first.
  if (scheme == ipc::Scheme::tcp && settings_.handoff && ipcd.held() == 0) {
    // The TCP socket goes to ipcd, and from there to the client, with the ok: nothing of this
    // connection stays here. The handshake's answer was read exactly, so the socket holds
    // nothing but what the remote sends from now on. (ipcd makes it blocking, as a fresh socket
    // is, before the client gets it: §15.)
    auto released = ipcd.release();
    const ipc::UniqueFd fd = ipc::release_for_handoff(remote.socket());
    co_await ipc::async_send_frame_with_fd(released.socket, ipc::Message::data("ok"), fd.get(), settings_.handshake_timeout);
    ipc::log_debug("CONNECT ", connected->uri, ": handed over");
    co_return;
  }
  if (!co_await ipcd.send(ipc::Message::data("ok"))) co_return;
  ipc::log_debug("CONNECT ", connected->uri, ": relaying");
  // The relay reads the socket itself from now on; whatever the client wrote right after its
  // lookup may already have been received, and goes first.
  auto [socket, pending] = ipcd.release();
  co_await relay(*ipcd.session(), std::move(socket), std::move(remote), std::move(pending), Side::outbound);
}

asio::awaitable<std::optional<Tcpd::Connected>> Tcpd::connect_for(ipc::Connection& ipcd, ipc::Scheme scheme) {
  ipc::Message request;
  if (!co_await ipcd.receive(request, settings_.handshake_timeout)) co_return std::nullopt;
  const ipc::ConnectRequest connect = ipc::parse_connect_request(request);
  const ipc::Uri& uri = connect.uri;
  if (uri.scheme() != scheme)
    throw Error(ErrorCode::bad_request, "tcpd takes " + std::string(ipc::to_string(scheme)) + ":// URIs here, not " +
                                            uri.str());
  // Never over plain TCP: refused before any connection is made.
  if (uri.password() && scheme == ipc::Scheme::tcp)
    throw Error(ErrorCode::bad_request, "a password is never sent over plain tcp://; use tls://");
  // tls://ID@HOST without a password authenticates with ID's pre-shared key: known before connecting.
  if (scheme == ipc::Scheme::tls && !uri.user().empty() && !uri.password() && !settings_.psk.find(uri.user()))
    throw Error(ErrorCode::auth_failed, "no pre-shared key for the identity '" + uri.user() + "' (--psk ID:HEXKEY)");

  // (Not `c ? co_await a : co_await b`: GCC 12 runs both arms of such a conditional.)
  // Resolved once, checked with ipcd when its rules name addresses (ipc::open_tcp).
  TcpSocket connected = co_await ipc::open_tcp(ipcd, connect, settings_.connect_timeout);
  ipc::tune_tcp(connected.native_handle(), settings_.keepalive);
  std::optional<RemoteStream> opened;
  if (scheme == ipc::Scheme::tls)
    opened.emplace(co_await secure(std::move(connected), uri));
  else
    opened.emplace(std::move(connected));
  RemoteStream& remote = *opened;
  // The remote handshake: the user (if any), and over TLS the password (if any).
  // (A named local, not a temporary inside the co_await: GCC 12 destroys such aggregate
  // temporaries twice.)
  const ipc::Message hello = encode_handshake({uri.service(), uri.user(), uri.password()});
  co_await write_frame(remote, hello, settings_.handshake_timeout);
  std::optional<ipc::Message> answered;
  // Something that is not a tcpd says so in its first bytes: SSH's banner, HTTP's status line,
  // a TLS alert (a TLS port given tcp://).
  const auto not_a_tcpd = [&](std::span<const std::uint8_t> header) {
    const auto other = foreign_protocol(header);
    if (!other) return;
    if (*other == "TLS")
      throw Error(ErrorCode::refused, uri.authority() + " speaks TLS, not plain tcp://: use tls://" + uri.authority() +
                                          "/" + std::string(uri.service().str()));
    throw Error(ErrorCode::refused, uri.authority() + " is not a tcpd (it answered " +
                                        (*other == "not the ipc protocol" ? std::string(*other) : "like " + std::string(*other)) + ")");
  };
  try {
    answered = co_await read_frame(remote, max_handshake, settings_.handshake_timeout, "the remote handshake", not_a_tcpd);
  } catch (const Error& e) {
    // The far side refused TLS after our side of the handshake was done: say what TLS said.
    if (e.code() == ErrorCode::unavailable && !remote.tls_failure().empty())
      throw Error(ErrorCode::auth_failed, uri.authority() + ": TLS: " + remote.tls_failure());
    // A TLS server given a plain handshake closes without a word (OpenSSL does); so does anything
    // else that is not a tcpd. `unavailable` is for a daemon of ours that is not running.
    if (e.code() == ErrorCode::unavailable && scheme == ipc::Scheme::tcp)
      throw Error(ErrorCode::refused, uri.authority() + " closed the connection without answering the remote "
                                          "handshake: it is not a tcpd's plain port (a TLS port wants tls://)");
    if (e.code() == ErrorCode::timeout)
      throw Error(ErrorCode::timeout, uri.authority() + ": " + std::string(e.text()) + " (is it a tcpd?)");
    throw;
  }
  const ipc::Message& answer = *answered;
  if (answer.type == ipc::MessageType::error) {
    // The remote's code and text go to ipcd, and from there to the client, as they are.
    ipc::log_info("CONNECT ", uri.str(), ": the remote side said ", answer.payload);
    co_await ipcd.send(answer);
    co_return std::nullopt;
  }
  if (answer.type != ipc::MessageType::data || answer.payload != "ok")
    throw Error(ErrorCode::unreachable, uri.authority() + " does not speak the ipc protocol");
  // (Named, not a temporary in the co_return: see above.)
  Connected done{std::move(remote), uri.str()};
  co_return std::optional<Connected>(std::move(done));
}

asio::awaitable<RemoteStream> Tcpd::secure(TcpSocket socket, const ipc::Uri& uri) {
  RemoteStream remote(std::move(socket), client_tls_.native_handle(), TlsRole::client);
  SSL* ssl = remote.ssl();
  const Key* psk = uri.password() ? nullptr : settings_.psk.find(uri.user());
  if (psk != nullptr) use_psk(ssl, uri.user(), *psk);
  // The server must prove it is the URI's host (with a PSK it proves it by knowing the key).
  if (!ipc::tls::expect_host(ssl, uri.host()))
    throw Error(ErrorCode::bad_request, "cannot check a certificate for the host '" + uri.host() + "'");
  try {
    co_await remote.handshake(settings_.handshake_timeout);
  } catch (const Error& e) {
    const std::string with_psk = psk ? " (with the pre-shared key of '" + uri.user() + "')" : "";
    ipc::log_info("CONNECT ", uri.str(), ": ", uri.authority(), ": ", e.what(), with_psk);
    const std::string text(e.text());
    // What OpenSSL says when the far side answered with no TLS record (a plain port): the
    // protocol is wrong, not the credentials.
    if (text.find("wrong version number") != std::string::npos || text.find("packet length too long") != std::string::npos)
      throw Error(ErrorCode::refused, uri.authority() + " does not speak TLS (" + text +
                                          "): a plain tcpd port wants tcp://" + uri.authority() + "/" +
                                          std::string(uri.service().str()));
    // A server that refuses every ClientHello without a key: it takes pre-shared keys only, or
    // wants a client certificate.
    if (text.find("alert handshake failure") != std::string::npos && psk == nullptr)
      throw Error(ErrorCode::auth_failed,
                  uri.authority() + ": " + text + ": the server wants a pre-shared key (tls://ID@" + uri.authority() +
                      "/" + std::string(uri.service().str()) + ", the key in --psk-file) or a client certificate it trusts (--tls-cert)");
    throw Error(e.code(), uri.authority() + ": " + text + with_psk);
  }
  // An offered PSK the server did not take means the server authenticated some other way: not
  // what the URI asked for.
  if (psk != nullptr && psk_identity(ssl).empty())
    throw Error(ErrorCode::auth_failed, uri.authority() + " did not accept the pre-shared key of '" + uri.user() + "'");
  co_return remote;
}

}  // namespace tcpd
