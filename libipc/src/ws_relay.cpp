// WebSocket <-> libipc relay (see ipc/ws/relay.hpp).
#include "ipc/ws/relay.hpp"

#include "ipc/ws/capped_stream.hpp"

#include <sys/socket.h>

#include <array>
#include <memory>
#include <optional>
#include <tuple>
#include <type_traits>

#include "ipc/deadline.hpp"
#include "ipc/log.hpp"
#include "ipc/run_both.hpp"
#include "ipc/tcp_socket.hpp"
#include "ipc/text.hpp"

namespace ipc::ws {
namespace {

// Close reasons are limited to 123 bytes by the protocol (125 minus the code).
websocket::close_reason make_reason(websocket::close_code code, std::string_view text) {
  if (text.size() > 123) text = text.substr(0, 123);
  // Cut at a character boundary: a close reason must be valid UTF-8.
  while (!text.empty() && !is_valid_utf8(text)) text.remove_suffix(1);
  return websocket::close_reason(code, text);
}

struct Shared {
  // Set by the WebSocket reader when the client broke the mapping; sent by the writer.
  std::optional<websocket::close_reason> close_with;
  bool writing = false;  // the writer is in the middle of a message
};

// Reads one whole WebSocket message into `bytes`. The wait for a message happens with a small
// buffer of this coroutine's, so an idle connection holds no message buffer (Beast's own read
// into a dynamic buffer prepares ~1.5 KiB before the first byte arrives). The rest of a larger
// message comes through a 64 KiB chunk, held only while it arrives, and is appended: `bytes`
// grows with what really came, never ahead of it (a peer announcing a 16 MiB frame and then
// stalling commits no 16 MiB). The size limit is Beast's (read_message_max).
// What an unfinished message holds counts in `budget` (when there is one); over it, the
// connection holding the most is refused: then this gives error::buffer_overflow.
template <class Ws>
asio::awaitable<boost::system::error_code> read_message(Ws& ws, std::string& bytes, MessageBudget::Holder* budget) {
  const auto over_budget = [&] { return budget != nullptr && budget->refused(); };
  std::array<char, 256> small;
  auto [ec, n] = co_await ws.async_read_some(asio::buffer(small), use_nothrow);
  if (over_budget()) co_return beast::error_code(beast::http::error::buffer_overflow);
  if (ec) co_return ec;
  bytes.assign(small.data(), n);
  if (ws.is_message_done()) co_return ec;
  constexpr std::size_t chunk_size = 64 * 1024;
  const auto chunk = std::make_unique_for_overwrite<char[]>(chunk_size);
  while (!ws.is_message_done()) {
    if (budget != nullptr && !budget->hold(bytes.size())) co_return beast::error_code(beast::http::error::buffer_overflow);
    std::tie(ec, n) = co_await ws.async_read_some(asio::buffer(chunk.get(), chunk_size), use_nothrow);
    if (over_budget()) co_return beast::error_code(beast::http::error::buffer_overflow);
    if (ec) co_return ec;
    bytes.append(chunk.get(), n);
  }
  co_return ec;
}

template <class Ws>
asio::awaitable<void> websocket_to_local(Ws& ws, ipc::Connection& local, const RelayOptions& options,
                                         Shared& shared) {
  std::string bytes;
  ipc::Message message;
  std::optional<MessageBudget::Holder> budget;
  if (options.budget != nullptr) {
    // Chosen while another connection reads: end this one's read (it then closes with 1009).
    budget.emplace(*options.budget, [&ws] {
      boost::system::error_code ignored;
      beast::get_lowest_layer(ws).socket().cancel(ignored);
    });
  }
  for (;;) {
    const auto ec = co_await read_message(ws, bytes, budget ? &*budget : nullptr);
    if (budget) (void)budget->hold(0);
    if (ec == beast::http::error::buffer_overflow) {
      const std::string why = "over " + options.program + "'s budget for unfinished messages (" +
                              std::to_string(options.budget->limit()) + " bytes, --max-buffered)";
      ipc::log_info(options.label, ": ", bytes.size(), " bytes held ", why, "; closed");
      shared.close_with = make_reason(websocket::close_code::too_big, why);
      break;
    }
    if (ec) {
      if (ec == websocket::error::closed)
        ipc::log_debug(options.label, ": client closed (", ws.reason().code, ")");
      else if (ec == websocket::error::message_too_big)
        ipc::log_info(options.label, ": message over the limit of ", options.max_message, " bytes; closed");
      else if (ec != asio::error::operation_aborted)
        ipc::log_debug(options.label, ": ", ec.message());
      break;
    }
    if (options.mode == Subprotocol::frame) {
      std::string why;
      if (!ws.got_binary()) why = "ipc.frame carries binary messages only";
      auto frame = why.empty() ? frame_from_message(bytes, options.max_message, why) : std::nullopt;
      if (!frame) {
        ipc::log_info(options.label, ": ", why, "; closed");
        shared.close_with = make_reason(websocket::close_code::protocol_error, why);
        break;
      }
      message = std::move(*frame);
    } else {
      message.type = ipc::MessageType::data;
      message.user_type = 0;
      message.payload.swap(bytes);
    }
    const bool sent = co_await local.send(message);
    // An idle connection keeps no large buffer: after a big message the memory goes back.
    if (bytes.capacity() > 4096) std::string().swap(bytes);
    if (message.payload.capacity() > 4096) std::string().swap(message.payload);
    if (!sent) break;  // the service went away
  }
  // Wakes the other direction, which then closes the WebSocket if it is still open.
  local.close();
}

// Writes one message; a peer that acknowledges none of it for the write timeout is dropped.
// Beast hides its partial writes, so progress is what the kernel says the peer took.
template <class Ws, class Buffer>
asio::awaitable<boost::system::error_code> write_message(Ws& ws, const Buffer& buffer, const RelayOptions& options) {
  if (options.write_timeout.count() == 0) {
    auto [ec, n] = co_await ws.async_write(buffer, use_nothrow);
    co_return ec;
  }
  auto& socket = beast::get_lowest_layer(ws).socket();
  const int fd = socket.native_handle();
  ipc::Deadline deadline(
      ws.get_executor(), options.write_timeout,
      [&socket] {
        boost::system::error_code ignored;
        socket.cancel(ignored);
      },
      [fd, last = ipc::tcp_bytes_acked(fd)]() mutable {
        const auto now = ipc::tcp_bytes_acked(fd);
        const bool moved = now != last;
        last = now;
        return moved;
      });
  auto [ec, n] = co_await ws.async_write(buffer, use_nothrow);
  if (deadline.expired()) {
    ipc::log_info(options.label, ": the peer took nothing for ", ipc::seconds_text(options.write_timeout),
                  " while a message waited for it: dropped (--write-timeout)");
    co_return asio::error::timed_out;
  }
  co_return ec;
}

template <class Ws>
asio::awaitable<void> local_to_websocket(Ws& ws, ipc::Connection& local, const RelayOptions& options,
                                         Shared& shared) {
  auto reason = make_reason(websocket::close_code::normal, "the service closed the connection");
  ipc::Message message;
  std::string frame;
  try {
    while (co_await local.receive(message)) {
      boost::system::error_code ec;
      if (options.mode == Subprotocol::frame) {
        frame.clear();
        ipc::append_frame(frame, message);
        ws.binary(true);
        shared.writing = true;
        ec = co_await write_message(ws, asio::buffer(frame), options);
        shared.writing = false;
      } else if (message.type == ipc::MessageType::data) {
        ws.text(is_valid_utf8(message.payload));
        shared.writing = true;
        ec = co_await write_message(ws, asio::buffer(message.payload), options);
        shared.writing = false;
      } else if (message.type == ipc::MessageType::error) {
        // The service refused something and is about to close: say why in the close frame.
        reason = make_reason(websocket::close_code::internal_error, message.payload);
        break;
      } else if (message.type == ipc::MessageType::close) {
        break;
      } else {
        continue;  // other frame types mean nothing to a text client
      }
      if (ec) {
        ipc::log_debug(options.label, ": write: ", ec.message());
        local.close();
        co_return;
      }
    }
  } catch (const ipc::Error& e) {
    // A frame over the limit from the service: too big for the client as well.
    ipc::log_info(options.label, ": from the service: ", e.what());
    reason = make_reason(e.code() == ipc::ErrorCode::too_large ? websocket::close_code::too_big
                                                               : websocket::close_code::internal_error,
                         e.what());
  }
  local.close();
  if (shared.close_with) reason = *shared.close_with;
  else if (options.server != nullptr && options.server->stopping()) reason = make_reason(websocket::close_code::going_away, options.program + " is shutting down");
  if (ws.is_open()) {
    auto [ec] = co_await ws.async_close(reason, use_nothrow);
    if (ec) ipc::log_debug(options.label, ": close: ", ec.message());
  }
}

}  // namespace

// Beast answers a close frame with the peer's own code, and takes every code from 1000 up that
// is not reserved, 5000 and above too; RFC 6455 (7.4) defines none past 4999. Such a close fails
// the connection with 1002 (protocol error) instead: said in a close frame of our own on a plain
// server stream when no message is being written (a client's frames would need a mask, a TLS
// stream its record layer), then the socket is shut down, so Beast's echo never goes out.
template <class Ws>
void fail_bad_close_codes(Ws& ws, const Shared& shared, const RelayOptions& options) {
  ws.control_callback([&ws, &shared, &options](websocket::frame_type kind, beast::string_view) {
    if (kind != websocket::frame_type::close || ws.reason().code < 5000) return;
    ipc::log_info(options.label, ": close code ", ws.reason().code, " is not one RFC 6455 defines: failed with 1002");
    const int fd = beast::get_lowest_layer(ws).socket().native_handle();
    if constexpr (std::is_same_v<Ws, WsStream>) {
      static constexpr char protocol_error[] = {'\x88', '\x02', '\x03', '\xea'};  // close, 1002
      if (!shared.writing) (void)::send(fd, protocol_error, sizeof protocol_error, MSG_DONTWAIT | MSG_NOSIGNAL);
    }
    ::shutdown(fd, SHUT_RDWR);
  });
}

template <class Ws>
asio::awaitable<void> relay(Ws& ws, ipc::Connection& local, RelayOptions options) {
  Shared shared;
  fail_bad_close_codes(ws, shared, options);
  ipc::log_debug(options.label, ": relaying (", to_string(options.mode), ")");
  // Both directions end on their own (each closes the local side, which ends the other), so
  // neither is ever cancelled half-way through a Beast operation.
  auto to_websocket = local_to_websocket(ws, local, options, shared);
  auto to_local = websocket_to_local(ws, local, options, shared);
  co_await ipc::run_both(std::move(to_websocket), std::move(to_local), [&local] { local.close(); });
  ws.control_callback();  // it refers to this frame's state
  ipc::log_debug(options.label, ": done");
}

template asio::awaitable<void> relay(WsStream&, ipc::Connection&, RelayOptions);
template asio::awaitable<void> relay(WssStream&, ipc::Connection&, RelayOptions);
template asio::awaitable<void> relay(OutboundWsStream&, ipc::Connection&, RelayOptions);
template asio::awaitable<void> relay(OutboundWssStream&, ipc::Connection&, RelayOptions);

}  // namespace ipc::ws
