// The connection to a remote tcpd: a TCP socket, and for tls:// an OpenSSL session run directly
// on it. Everything after the TCP connect — the remote handshake (tcp_frames.hpp), the relay
// (relay.hpp) — talks to the remote through this one type, plain or TLS alike.
//
// tcpd drives OpenSSL itself (a socket BIO on the non-blocking socket, readiness from Asio)
// rather than through asio::ssl::stream, because the relay needs three things that stream does
// not give: a half-close (close_notify sent now while the other direction goes on reading), a
// read that says "nothing right now" instead of waiting while holding a buffer (so an idle
// connection holds none; OpenSSL's own buffers go back too, SSL_MODE_RELEASE_BUFFERS), and no
// extra copy of every byte through a BIO pair. The contexts still come from asio::ssl::context
// (ipc::tls). One reader and one writer may use a stream at once (on one thread), which OpenSSL
// allows between calls.
#pragma once

#include <openssl/ssl.h>

#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <ipc/asio.hpp>
#include <memory>
#include <string>

namespace tcpd {

using TcpSocket = boost::asio::ip::tcp::socket;

enum class TlsRole { client, server };

class RemoteStream {
 public:
  // Plain tcp://.
  explicit RemoteStream(TcpSocket socket);
  // tls://: a TLS session on `socket` from `context`, playing `role`, not yet handshaken.
  // Throws std::runtime_error when OpenSSL cannot make one.
  RemoteStream(TcpSocket socket, SSL_CTX* context, TlsRole role);

  [[nodiscard]] TcpSocket& socket() noexcept { return socket_; }
  // The TLS session, nullptr for plain TCP.
  [[nodiscard]] SSL* ssl() const noexcept { return ssl_.get(); }
  // Why TLS failed after the handshake ("tlsv1 alert unknown ca": in TLS 1.3 a server refuses a
  // client's certificate only after the client's handshake completed), "" when it did not.
  [[nodiscard]] const std::string& tls_failure() const noexcept { return tls_failure_; }

  // The TLS handshake within `timeout`. Throws ipc::Error: timeout, unavailable (the
  // connection closed), auth_failed (with OpenSSL's reason: a certificate that did not verify,
  // an unknown pre-shared key, no common protocol...). Nothing to do for plain TCP.
  ipc::asio::awaitable<void> handshake(std::chrono::milliseconds timeout);

  // Whether TLS holds decrypted bytes a read_some() gets without the socket being readable.
  [[nodiscard]] bool has_buffered() const noexcept { return ssl_ && SSL_pending(ssl_.get()) > 0; }
  // Reads what is there now without waiting: would_block when nothing is, eof at the end
  // (TCP FIN, or the peer's close_notify).
  std::size_t read_some(boost::asio::mutable_buffer buffer, boost::system::error_code& ec);
  // Reads exactly buffer.size() bytes.
  ipc::asio::awaitable<boost::system::error_code> read_exact(boost::asio::mutable_buffer buffer);
  // Writes all of `buffer`.
  // `stall`: fail with timed_out when the peer takes nothing for that long (0: wait forever).
  ipc::asio::awaitable<boost::system::error_code> write(boost::asio::const_buffer buffer,
                                                        std::chrono::milliseconds stall = {});
  // No more data from this side: close_notify for TLS, then the TCP send direction's shutdown.
  // The other direction can still be read.
  ipc::asio::awaitable<void> shutdown_send(std::chrono::milliseconds stall = {});
  void close() noexcept;

 private:
  struct FreeSsl {
    void operator()(SSL* ssl) const noexcept { SSL_free(ssl); }
  };
  TcpSocket socket_;
  std::unique_ptr<SSL, FreeSsl> ssl_;
  std::string tls_failure_;
};

}  // namespace tcpd
