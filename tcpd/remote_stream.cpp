// The connection to a remote tcpd, plain or TLS (see remote_stream.hpp).
#include "remote_stream.hpp"

#include <openssl/err.h>

#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <ipc/deadline.hpp>
#include <ipc/stream_write.hpp>
#include <ipc/error.hpp>
#include <ipc/text.hpp>
#include <ipc/tls.hpp>
#include <stdexcept>

#include "credentials.hpp"
#include "tcp_frames.hpp"

namespace tcpd {
namespace asio = ipc::asio;
using ipc::Error;
using ipc::ErrorCode;

RemoteStream::RemoteStream(TcpSocket socket) : socket_(std::move(socket)) {}

RemoteStream::RemoteStream(TcpSocket socket, SSL_CTX* context, TlsRole role)
    : socket_(std::move(socket)), ssl_(SSL_new(context)) {
  if (!ssl_) throw std::runtime_error("cannot make a TLS session: " + ipc::tls::take_errors());
  // OpenSSL reads and writes the socket itself, never blocking: Asio only says when it is ready.
  boost::system::error_code ec;
  socket_.non_blocking(true, ec);
  BIO* bio = BIO_new_socket(socket_.native_handle(), BIO_NOCLOSE);
  if (ec || bio == nullptr) throw std::runtime_error("cannot attach TLS to the socket");
  SSL_set_bio(ssl_.get(), bio, bio);
  if (role == TlsRole::client)
    SSL_set_connect_state(ssl_.get());
  else
    SSL_set_accept_state(ssl_.get());
  // A write may complete partly (the relay goes on with the rest), and is retried from wherever
  // the rest sits after a wait.
  SSL_set_mode(ssl_.get(), SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
}

asio::awaitable<void> RemoteStream::handshake(std::chrono::milliseconds timeout) {
  if (!ssl_) co_return;
  const auto deadline = ipc::cancelling(socket_, timeout);
  for (;;) {
    ERR_clear_error();
    const int result = SSL_do_handshake(ssl_.get());
    if (result == 1) co_return;
    const int error = SSL_get_error(ssl_.get(), result);
    if (error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE) {
      auto [ec] = co_await socket_.async_wait(error == SSL_ERROR_WANT_READ ? TcpSocket::wait_read : TcpSocket::wait_write,
                                              ipc::use_nothrow);
      if (deadline.expired())
        throw Error(ErrorCode::timeout, "the TLS handshake did not complete within " + ipc::seconds_text(timeout));
      if (ec) throw Error(ErrorCode::unavailable, "the connection closed during the TLS handshake");
      continue;
    }
    std::string why = ipc::tls::failure_reason(ssl_.get());
    if (const std::string rejected = rejected_psk(ssl_.get()); !rejected.empty())
      why = "unknown pre-shared key identity '" + rejected + "'";
    throw Error(ErrorCode::auth_failed, "TLS handshake failed: " + why);
  }
}

std::size_t RemoteStream::read_some(asio::mutable_buffer buffer, boost::system::error_code& ec) {
  ec = {};
  if (!ssl_) return socket_.read_some(buffer, ec);
  // After close() the fd number may already belong to somebody else: OpenSSL must not touch it.
  if (!socket_.is_open()) {
    ec = asio::error::bad_descriptor;
    return 0;
  }
  // Several TLS records (16 KiB each at most) into one buffer, until the socket has no more.
  auto* data = static_cast<char*>(buffer.data());
  std::size_t total = 0;
  while (total < buffer.size()) {
    std::size_t n = 0;
    ERR_clear_error();
    if (SSL_read_ex(ssl_.get(), data + total, buffer.size() - total, &n) == 1) {
      total += n;
      continue;
    }
    const int error = SSL_get_error(ssl_.get(), 0);
    if (total > 0) break;  // what came first; the condition shows again on the next call
    switch (error) {
      case SSL_ERROR_WANT_READ:
      case SSL_ERROR_WANT_WRITE: ec = asio::error::would_block; break;
      case SSL_ERROR_ZERO_RETURN: ec = asio::error::eof; break;  // the peer's close_notify
      default:
        // A TCP end without close_notify, an alert, a bad record: either way the stream cannot
        // be trusted to be complete.
        tls_failure_ = ipc::tls::take_errors();
        ec = asio::error::connection_reset;
    }
    return 0;
  }
  return total;
}

asio::awaitable<boost::system::error_code> RemoteStream::read_exact(asio::mutable_buffer buffer) {
  if (!ssl_) {
    auto [ec, n] = co_await asio::async_read(socket_, buffer, ipc::use_nothrow);
    co_return ec;
  }
  auto* data = static_cast<char*>(buffer.data());
  std::size_t done = 0;
  while (done < buffer.size()) {
    boost::system::error_code ec;
    done += read_some(asio::buffer(data + done, buffer.size() - done), ec);
    if (ec == asio::error::would_block) {
      auto [wait_error] = co_await socket_.async_wait(TcpSocket::wait_read, ipc::use_nothrow);
      if (wait_error) co_return wait_error;
    } else if (ec) {
      co_return ec;
    }
  }
  co_return boost::system::error_code();
}

asio::awaitable<boost::system::error_code> RemoteStream::write(asio::const_buffer buffer, std::chrono::milliseconds stall) {
  if (!ssl_) co_return co_await ipc::write_all(socket_, buffer, stall);
  const auto* data = static_cast<const char*>(buffer.data());
  std::size_t left = buffer.size();
  while (left > 0) {
    if (!socket_.is_open()) co_return asio::error::bad_descriptor;  // see read_some()
    std::size_t n = 0;
    ERR_clear_error();
    if (SSL_write_ex(ssl_.get(), data, left, &n) == 1) {
      data += n;
      left -= n;
      continue;
    }
    const int error = SSL_get_error(ssl_.get(), 0);
    if (error != SSL_ERROR_WANT_WRITE && error != SSL_ERROR_WANT_READ) {
      // What OpenSSL said stays for the caller's log line, as a failed read's does.
      tls_failure_ = ipc::tls::take_errors();
      co_return asio::error::broken_pipe;
    }
    // Each wait is a new chance for the peer to take bytes: a moving peer never runs out of time.
    const auto ec =
        co_await ipc::wait_ready(socket_, error == SSL_ERROR_WANT_WRITE ? TcpSocket::wait_write : TcpSocket::wait_read, stall);
    if (ec) co_return ec;
  }
  co_return boost::system::error_code();
}

asio::awaitable<void> RemoteStream::shutdown_send(std::chrono::milliseconds stall) {
  if (ssl_ && socket_.is_open()) {
    // One SSL_shutdown() sends close_notify (0: sent, theirs not yet here; 1: theirs came
    // too). Not waiting for the peer's: the other direction still reads until it comes.
    for (;;) {
      ERR_clear_error();
      const int result = SSL_shutdown(ssl_.get());
      if (result >= 0 || SSL_get_error(ssl_.get(), result) != SSL_ERROR_WANT_WRITE) break;
      if (co_await ipc::wait_ready(socket_, TcpSocket::wait_write, stall)) break;
    }
    ERR_clear_error();
  }
  boost::system::error_code ignored;
  socket_.shutdown(TcpSocket::shutdown_send, ignored);
}

void RemoteStream::close() noexcept {
  boost::system::error_code ignored;
  socket_.close(ignored);
}

}  // namespace tcpd
