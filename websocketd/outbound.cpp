// Outbound ws:// and wss:// (see outbound.hpp).
#include "outbound.hpp"

#include <ipc/delegation.hpp>
#include <ipc/error.hpp>
#include <ipc/log.hpp>
#include <ipc/tcp_socket.hpp>
#include <ipc/tls.hpp>
#include <ipc/uri.hpp>


#include "beast.hpp"


namespace websocketd {
namespace {

using Clock = std::chrono::steady_clock;

// ipcd's one request frame, within the deadline.
asio::awaitable<ipc::Message> first_frame(ipc::Connection& ipcd, std::chrono::milliseconds timeout) {
  // Connection's own deadline, not `receive() || timer`: that operator takes a receive that
  // throws (too-large, bad type) for one that has not finished, and waits out the timer.
  ipc::Message request;
  if (!co_await ipcd.receive(request, timeout))
    throw ipc::Error(ipc::ErrorCode::bad_request, "closed before sending a request");
  if (request.type != ipc::MessageType::connect)
    throw ipc::Error(ipc::ErrorCode::bad_request,
                     "expected CONNECT, got " + std::string(ipc::to_string(request.type)));
  co_return request;
}

// ipcd's CONNECT (ipc::parse_connect_request), for this socket's scheme and without credentials.
ipc::ConnectRequest parse_connect(const ipc::Message& frame, ipc::Scheme scheme) {
  ipc::ConnectRequest request = ipc::parse_connect_request(frame);
  const ipc::Uri& uri = request.uri;
  if (uri.scheme() != scheme)
    throw ipc::Error(ipc::ErrorCode::unsupported_scheme, "websocketd on " + std::string(ipc::to_string(scheme)) +
                                                             " opens " + std::string(ipc::to_string(scheme)) +
                                                             ":// only, not " + std::string(ipc::to_string(uri.scheme())));
  if (!uri.user().empty() || uri.password())
    throw ipc::Error(ipc::ErrorCode::bad_request,
                     std::string(ipc::to_string(scheme)) + ":// carries no credentials (websocketd has no use for them)");
  return request;
}

// A remote websocketd's refusal: its status, and the "code: text" it put in the body.
ipc::Error refusal_error(const ipc::Uri& uri, const websocket::response_type& response) {
  std::string body = response.body();
  while (!body.empty() && (body.back() == '\n' || body.back() == '\r')) body.pop_back();
  const auto code_end = body.find(": ");
  if (code_end != std::string::npos && body.size() < 1024 && ipc::parse_error_code(body.substr(0, code_end)))
    return ipc::Error::from_payload(body);
  ipc::ErrorCode code = ipc::ErrorCode::refused;
  switch (response.result()) {
    case http::status::bad_request: code = ipc::ErrorCode::bad_request; break;
    case http::status::forbidden:
    case http::status::misdirected_request: code = ipc::ErrorCode::denied; break;
    case http::status::not_found: code = ipc::ErrorCode::not_found; break;
    case http::status::service_unavailable: code = ipc::ErrorCode::unavailable; break;
    case http::status::gateway_timeout: code = ipc::ErrorCode::timeout; break;
    default: break;
  }
  return ipc::Error(code, uri.str() + " refused the WebSocket upgrade (HTTP " +
                              std::to_string(response.result_int()) + ")");
}

// The TCP connection, within the deadline: resolved once, checked with ipcd when its rules name
// addresses (ipc::open_tcp).
asio::awaitable<beast::tcp_stream> connect_tcp(ipc::Connection& ipcd, const ipc::ConnectRequest& request,
                                               Clock::time_point deadline, std::chrono::seconds keepalive) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  tcp::socket socket = co_await ipc::open_tcp(ipcd, request, left);
  beast::tcp_stream stream(std::move(socket));
  stream.expires_at(deadline);
  ipc::tune_tcp(stream.socket().native_handle(), keepalive);
  co_return stream;
}

// For wss://: the TLS handshake, the server verified against the trust and the URI's host.
asio::awaitable<TlsStream> secure(beast::tcp_stream stream, const ipc::Uri& uri, Context& context) {
  TlsStream tls(std::move(stream), context.client_tls);
  if (!ipc::tls::expect_host(tls.native_handle(), uri.host()))
    throw ipc::Error(ipc::ErrorCode::bad_request, "cannot check a certificate for the host '" + uri.host() + "'");
  auto [ec] = co_await tls.async_handshake(asio::ssl::stream_base::client, use_nothrow);
  if (ec == beast::error::timeout)
    throw ipc::Error(ipc::ErrorCode::timeout, "the TLS handshake with " + uri.authority() + " took too long");
  if (ec)
    throw ipc::Error(ipc::ErrorCode::auth_failed, uri.authority() + ": TLS handshake failed: " +
                                                      ipc::tls::failure_reason(tls.native_handle(), ec.message()));
  co_return tls;
}

// How much of the server's answer to the upgrade is read: headers (16 KiB, as websocketd takes
// from its own clients) and the start of a refusal's body ("code: text"), never more.
constexpr std::size_t max_upgrade_answer = 16 * 1024 + 4 * 1024;

// The answer a server gave before the cap stopped reading it: its status and the body so far;
// nullopt when not even the headers fit.
std::optional<websocket::response_type> parse_answer(const std::string& bytes) {
  http::response_parser<http::string_body> parser;
  parser.eager(true);
  parser.header_limit(static_cast<std::uint32_t>(bytes.size() + 1));
  parser.body_limit(bytes.size());
  std::size_t offset = 0;
  while (offset < bytes.size() && !parser.is_done()) {
    boost::system::error_code ec;
    const auto used = parser.put(asio::buffer(bytes.data() + offset, bytes.size() - offset), ec);
    if (ec || used == 0) break;
    offset += used;
  }
  if (!parser.is_header_done()) return std::nullopt;
  return parser.release();
}

// The WebSocket handshake on a connected (and for wss:// secured) stream, within the deadline
// the stream's lowest layer already has; the server's answer is read through the cap.
template <class Ws>
asio::awaitable<void> handshake(Ws& ws, const ipc::Uri& uri, const Settings& settings) {
  ws.set_option(websocket::stream_base::decorator([](websocket::request_type& request) {
    request.set(http::field::user_agent, "websocketd (ipc)");
    request.set(http::field::sec_websocket_protocol, subprotocol_frame);
  }));
  ws.read_message_max(settings.max_message + ipc::header_size);
  websocket::response_type response;
  ws.next_layer().cap(max_upgrade_answer);
  auto [handshake_error] = co_await ws.async_handshake(response, uri.authority(), "/" + uri.service().str(), use_nothrow);
  if (handshake_error) {
    // A refusal whose answer fitted: Beast gives it whole.
    if (handshake_error == websocket::error::upgrade_declined && response.result() != http::status::switching_protocols)
      throw refusal_error(uri, response);
    // One that did not (an endless body, headers without end): what came before the cap.
    if (ws.next_layer().exhausted()) {
      const auto answer = parse_answer(ws.next_layer().recorded());
      if (answer && answer->result() != http::status::switching_protocols) throw refusal_error(uri, *answer);
      throw ipc::Error(ipc::ErrorCode::unreachable, uri.authority() + " answered the WebSocket upgrade with more than " +
                                                        std::to_string(max_upgrade_answer) + " bytes of HTTP headers");
    }
    if (handshake_error == beast::error::timeout)
      throw ipc::Error(ipc::ErrorCode::timeout, "WebSocket handshake with " + uri.authority() + " took too long");
    throw ipc::Error(ipc::ErrorCode::unreachable,
                     "WebSocket handshake with " + uri.authority() + " failed: " + handshake_error.message());
  }
  ws.next_layer().uncap();
  if (response[http::field::sec_websocket_protocol] != subprotocol_frame)
    throw ipc::Error(ipc::ErrorCode::refused, uri.str() + " does not speak the ipc.frame subprotocol");

  beast::get_lowest_layer(ws).expires_never();  // the WebSocket's own timeouts from now on
  ws.set_option(websocket::stream_base::timeout{
      std::chrono::duration_cast<websocket::stream_base::duration>(settings.timeout),
      std::chrono::duration_cast<websocket::stream_base::duration>(settings.idle_timeout), true});
}

// Connects, handshakes, answers ipcd and relays: one WebSocket stream type, ws:// or wss://.
template <class Ws>
asio::awaitable<void> connect_and_relay(ipc::Connection& ipcd, const ipc::ConnectRequest& request,
                                        Context& context) {
  const ipc::Uri& uri = request.uri;
  std::optional<Ws> ws;
  try {
    const auto deadline = Clock::now() + context.settings.timeout;
    beast::tcp_stream stream = co_await connect_tcp(ipcd, request, deadline, context.settings.keepalive);
    if constexpr (std::is_same_v<Ws, OutboundWssStream>)
      ws.emplace(co_await secure(std::move(stream), uri, context));
    else
      ws.emplace(std::move(stream));
    co_await handshake(*ws, uri, context.settings);
  } catch (const ipc::Error& e) {
    ipc::log_info("outbound ", uri.str(), ": ", e.what());
    throw;  // to ipcd as ERROR, which forwards it to the client
  }
  if (!co_await ipcd.send(ipc::Message::data("ok"))) co_return;
  ipc::log_info("outbound ", uri.str(), ": connected");
  RelayOptions options{Subprotocol::frame, context.settings.max_message, &context.server, "outbound " + uri.str(),
                       &context.budget, context.settings.write_timeout};
  // A relay is not ended at the client's next frame boundary (its answers would be lost with
  // it): it runs on through the drain at stop, and is closed (1001) at its end.
  if (ipc::Session* session = ipcd.session()) session->drain = nullptr;
  co_await relay(*ws, ipcd, std::move(options));  // a named local: see http_session.cpp
}

}  // namespace

asio::awaitable<void> outbound_session(ipc::Connection& ipcd, ipc::Scheme scheme, Context& context) {
  const auto request = co_await first_frame(ipcd, context.settings.timeout);
  const ipc::ConnectRequest connect = parse_connect(request, scheme);
  ipc::log_debug("outbound ", connect.uri.str(), ": connecting");
  if (scheme == ipc::Scheme::wss)
    co_await connect_and_relay<OutboundWssStream>(ipcd, connect, context);
  else
    co_await connect_and_relay<OutboundWsStream>(ipcd, connect, context);
}

}  // namespace websocketd
