// A stream layer that reads at most a set number of bytes while capped, and keeps a copy of what
// it read: the outbound WebSocket handshake reads the server's HTTP answer through it. Beast's
// handshake reads a refusal's whole body (up to 8 MiB, chunk after endless chunk); capped, a
// hostile server gets `cap` bytes in and the connection ends, and the copy still says which
// status and "code: text" the server sent.
#pragma once

#include <algorithm>
#include <boost/asio/compose.hpp>
#include <boost/asio/error.hpp>
#include <cstddef>
#include <limits>
#include <string>

#include "ipc/ws/beast.hpp"

namespace ipc::ws {

template <class NextLayer>
class CappedStream {
 public:
  using executor_type = typename NextLayer::executor_type;
  using next_layer_type = NextLayer;

  explicit CappedStream(NextLayer next) : next_(std::move(next)) {}

  [[nodiscard]] executor_type get_executor() noexcept { return next_.get_executor(); }
  [[nodiscard]] NextLayer& next_layer() noexcept { return next_; }
  [[nodiscard]] const NextLayer& next_layer() const noexcept { return next_; }

  // From now on, read at most `bytes` more, keeping a copy; a read past them fails with
  // asio::error::message_size.
  void cap(std::size_t bytes) {
    left_ = bytes;
    recorded_.clear();
    recording_ = true;
  }
  // Reads as the next layer does again; the copy is dropped.
  void uncap() {
    left_ = unlimited;
    recording_ = false;
    std::string().swap(recorded_);
  }
  [[nodiscard]] bool exhausted() const noexcept { return left_ == 0; }
  [[nodiscard]] const std::string& recorded() const noexcept { return recorded_; }

  // Reads into the first buffer of `buffers` only (a read_some may read less than all of them),
  // at most what the cap leaves.
  template <class MutableBuffers, class Token>
  auto async_read_some(const MutableBuffers& buffers, Token&& token) {
    asio::mutable_buffer first;
    for (auto it = asio::buffer_sequence_begin(buffers); it != asio::buffer_sequence_end(buffers); ++it) {
      first = *it;
      if (first.size() > 0) break;
    }
    return asio::async_compose<Token, void(boost::system::error_code, std::size_t)>(ReadOp{*this, first}, token, next_);
  }
  template <class ConstBuffers, class Token>
  auto async_write_some(const ConstBuffers& buffers, Token&& token) {
    return next_.async_write_some(buffers, std::forward<Token>(token));
  }

 private:
  static constexpr std::size_t unlimited = std::numeric_limits<std::size_t>::max();

  struct ReadOp {
    CappedStream& stream;
    asio::mutable_buffer buffer;
    bool started = false;

    template <class Self>
    void operator()(Self& self, boost::system::error_code ec = {}, std::size_t n = 0) {
      if (!started) {
        started = true;
        // Spent: an empty read completes (asynchronously, as every completion must) with nothing.
        if (stream.left_ == 0) {
          stream.next_.async_read_some(asio::mutable_buffer(), std::move(self));
          return;
        }
        stream.next_.async_read_some(asio::buffer(buffer, stream.left_), std::move(self));
        return;
      }
      if (stream.left_ == 0) {
        self.complete(asio::error::message_size, 0);
        return;
      }
      if (stream.left_ != unlimited) {
        n = std::min(n, stream.left_);
        stream.left_ -= n;
        if (stream.recording_) {
          const auto old = stream.recorded_.size();
          stream.recorded_.resize(old + n);
          asio::buffer_copy(asio::buffer(stream.recorded_.data() + old, n), buffer, n);
        }
      }
      self.complete(ec, n);
    }
  };

  NextLayer next_;
  std::size_t left_ = unlimited;
  bool recording_ = false;
  std::string recorded_;
};

// What Beast's WebSocket close does to the layer below: the next layer's teardown.
template <class NextLayer>
void teardown(beast::role_type role, CappedStream<NextLayer>& stream, boost::system::error_code& ec) {
  using beast::websocket::teardown;
  teardown(role, stream.next_layer(), ec);
}

template <class NextLayer, class Handler>
void async_teardown(beast::role_type role, CappedStream<NextLayer>& stream, Handler&& handler) {
  using beast::websocket::async_teardown;
  async_teardown(role, stream.next_layer(), std::forward<Handler>(handler));
}

// Outbound ws:// and wss://: the WebSocket over a capped TCP or TLS stream (outbound.cpp).
using OutboundWsStream = websocket::stream<CappedStream<beast::tcp_stream>>;
using OutboundWssStream = websocket::stream<CappedStream<TlsStream>>;

}  // namespace ipc::ws
