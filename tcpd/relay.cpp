// The byte relay (see relay.hpp).
#include "relay.hpp"

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/write.hpp>
#include <ipc/log.hpp>
#include <memory>

namespace tcpd {
namespace asio = ipc::asio;
namespace {

constexpr std::size_t chunk = 64 * 1024;

// Closes both sides: the other direction's pending operation then ends with an error.
struct Sides {
  ipc::UnixSocket& unix_side;
  TcpSocket& tcp_side;
  void close() {
    boost::system::error_code ignored;
    unix_side.close(ignored);
    tcp_side.close(ignored);
  }
};

template <class From, class To>
asio::awaitable<void> pump(From& from, To& to, const std::string& first, Sides& sides) {
  if (!first.empty()) {
    auto [ec, n] = co_await asio::async_write(to, asio::buffer(first), ipc::use_nothrow);
    if (ec) {
      sides.close();
      co_return;
    }
  }
  std::unique_ptr<char[]> buffer;
  for (;;) {
    // Wait for data before holding a buffer: idle connections cost no buffer memory.
    auto [wait_error] = co_await from.async_wait(From::wait_read, ipc::use_nothrow);
    if (wait_error) break;
    if (!buffer) buffer = std::make_unique_for_overwrite<char[]>(chunk);
    boost::system::error_code read_error;
    const std::size_t n = from.read_some(asio::buffer(buffer.get(), chunk), read_error);
    if (read_error == asio::error::would_block || read_error == asio::error::try_again) continue;
    if (read_error == asio::error::eof) {
      // Half-close: the other side learns there is no more, and may go on sending.
      boost::system::error_code ignored;
      to.shutdown(To::shutdown_send, ignored);
      co_return;
    }
    if (read_error) break;
    auto [write_error, written] = co_await asio::async_write(to, asio::buffer(buffer.get(), n), ipc::use_nothrow);
    if (write_error) break;
  }
  sides.close();
}

}  // namespace

void tune(TcpSocket& socket) {
  boost::system::error_code ignored;
  socket.set_option(asio::ip::tcp::no_delay(true), ignored);
  socket.set_option(asio::socket_base::keep_alive(true), ignored);
}

asio::awaitable<void> relay(ipc::UnixSocket unix_side, TcpSocket tcp_side, std::string to_tcp_first,
                            std::string to_unix_first) {
  using namespace asio::experimental::awaitable_operators;
  // Non-blocking, so a read after a spurious readiness gives would_block instead of waiting.
  unix_side.non_blocking(true);
  tcp_side.non_blocking(true);
  Sides sides{unix_side, tcp_side};
  co_await (pump(unix_side, tcp_side, to_tcp_first, sides) &&
            pump(tcp_side, unix_side, to_unix_first, sides));
}

}  // namespace tcpd
