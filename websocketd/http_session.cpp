// The HTTP/WebSocket server session (see http_session.hpp).
#include "http_session.hpp"

#include <ipc/address.hpp>
#include <ipc/adopt.hpp>
#include <ipc/broker.hpp>
#include <ipc/ws/server.hpp>
#include <ipc/log.hpp>
#include <ipc/tcp_socket.hpp>
#include <ipc/service_name.hpp>
#include <ipc/text.hpp>

#include "beast.hpp"
#include "static_files.hpp"

namespace websocketd {
namespace {

constexpr std::size_t max_request_body = 64 * 1024;

// The HTTP status for an error ipcd (or our own checks) gave.
http::status status_for(ipc::ErrorCode code) {
  switch (code) {
    case ipc::ErrorCode::bad_request: return http::status::bad_request;
    case ipc::ErrorCode::denied:
    case ipc::ErrorCode::auth_failed: return http::status::forbidden;
    case ipc::ErrorCode::not_found: return http::status::not_found;
    case ipc::ErrorCode::too_large: return http::status::payload_too_large;
    case ipc::ErrorCode::unavailable: return http::status::service_unavailable;
    case ipc::ErrorCode::timeout: return http::status::gateway_timeout;
    case ipc::ErrorCode::loop:
    case ipc::ErrorCode::unreachable:
    case ipc::ErrorCode::refused:
    case ipc::ErrorCode::unsupported_scheme: return http::status::bad_gateway;
    case ipc::ErrorCode::internal: break;
  }
  return http::status::internal_server_error;
}

// The status for a request the parser refused (nullopt: the stream ended or failed, no answer).
std::optional<http::status> status_for_malformed(const boost::system::error_code& error) {
  if (error.category() != http::make_error_code(http::error::bad_method).category()) return std::nullopt;
  if (error == http::error::end_of_stream || error == http::error::partial_message) return std::nullopt;
  if (error == http::error::header_limit) return http::status::request_header_fields_too_large;
  if (error == http::error::body_limit) return http::status::payload_too_large;
  return http::status::bad_request;
}

// Answers `status` with `body` ("code: text") outside any request, and ends the connection.
template <class Stream>
asio::awaitable<void> refuse(Stream& stream, http::status status, std::string body, Context& context) {
  http::response<http::string_body> response{status, 11};
  response.set(http::field::server, "websocketd (ipc)");
  response.set(http::field::content_type, "text/plain; charset=utf-8");
  response.set(http::field::cache_control, "no-store");
  response.keep_alive(false);
  response.body() = std::move(body) + "\n";
  response.prepare_payload();
  beast::get_lowest_layer(stream).expires_after(context.settings.timeout);
  co_await http::async_write(stream, response, use_nothrow);
  boost::system::error_code ignored;
  beast::get_lowest_layer(stream).socket().shutdown(tcp::socket::shutdown_send, ignored);
}

// What the Server may do to an HTTP session while it waits for a request: shed it (at the cap)
// or end it (at stop, between requests). Set while `waiting`; nothing afterwards.
class HttpHooks {
 public:
  HttpHooks(ipc::Session& session, int fd) : session_(session) {
    session.close = [fd](const ipc::Error*) { ::shutdown(fd, SHUT_RDWR); };
    session.drain = [this, fd] {
      if (waiting_) ::shutdown(fd, SHUT_RDWR);
    };
    session.idle_since = [this]() -> std::optional<ipc::Session::Clock::time_point> {
      if (!waiting_) return std::nullopt;
      return since_;
    };
  }
  ~HttpHooks() {
    session_.close = nullptr;
    session_.drain = nullptr;
    session_.idle_since = nullptr;
  }
  HttpHooks(const HttpHooks&) = delete;
  HttpHooks& operator=(const HttpHooks&) = delete;
  void waiting(bool yes) {
    waiting_ = yes;
    since_ = ipc::Session::Clock::now();
  }

 private:
  ipc::Session& session_;
  bool waiting_ = true;
  ipc::Session::Clock::time_point since_ = ipc::Session::Clock::now();
};

// What an upgraded connection's relay needs, shared by the session that runs it.
template <class Ws>
struct Upgraded {
  template <class Stream>
  Upgraded(Stream stream, ipc::UnixSocket local, ipc::ConnectionLimits limits, RelayOptions relay_options)
      : ws(std::move(stream)), connection(std::move(local), limits), options(std::move(relay_options)) {}
  Ws ws;
  ipc::Connection connection;
  RelayOptions options;
  std::optional<ipc::PeerLimit::Slot> per_peer;  // the address's place (--max-per-peer), held to the end
};

// A relay as a session: never shed, it runs through the drain; closing its local side ends it
// (the browser is told 1001 going away when websocketd stops).
template <class Ws>
asio::awaitable<void> relay_session(std::shared_ptr<Upgraded<Ws>> state, ipc::SessionTicket ticket) {
  ipc::Session& session = *ticket;
  session.close = [&connection = state->connection](const ipc::Error*) { connection.close(); };
  co_await relay(state->ws, state->connection, state->options);
  session.close = nullptr;
}

// The upgrade request ADOPT carries to a service that adopts (DESIGN §15): what the service needs
// to answer it, and nothing a browser sent besides (cookies, other headers, the query stay here):
// the request line for /SERVICE, Host, Origin, the WebSocket headers and the one subprotocol
// chosen. ADOPT is JSON, so it must be UTF-8; a browser's handshake always is, a request that is
// not gets 400 (relaying it instead would let it past the service's per-address count).
std::string handoff_request(const Request& request, const std::string& service, Subprotocol mode) {
  Request minimal{http::verb::get, "/" + service, 11};
  for (const auto field : {http::field::host, http::field::origin, http::field::sec_websocket_key,
                           http::field::sec_websocket_version}) {
    if (const auto it = request.find(field); it != request.end()) minimal.set(field, it->value());
  }
  minimal.set(http::field::upgrade, "websocket");
  minimal.set(http::field::connection, "Upgrade");
  if (mode != Subprotocol::none) minimal.set(http::field::sec_websocket_protocol, to_string(mode));
  std::string bytes = ipc::ws::request_bytes(minimal);
  if (!is_valid_utf8(bytes))
    throw ipc::Error(ipc::ErrorCode::bad_request, "the WebSocket handshake's headers are not UTF-8");
  return bytes;
}

// The checks before upgrading; on success, ipcd's answer: a connection to the local service, or
// to its adoption socket when the connection `may_adopt` and the service has one (`handoff` is
// then the request for ADOPT).
asio::awaitable<ipc::InboundAnswer> admit(const Request& request, std::size_t early_bytes, const std::string& peer,
                                          const char* scheme, bool may_adopt, Subprotocol& mode, std::string& service,
                                          std::string& handoff, Context& context) {
  // RFC 6455 4.1: a client waits for the answer before it sends anything more. What came early
  // would be lost on either path, so it is said instead.
  if (early_bytes > 0)
    throw ipc::Error(ipc::ErrorCode::bad_request, std::to_string(early_bytes) +
                                                      " bytes came after the upgrade request, before its answer");
  auto path = std::string_view(request.target());
  path = path.substr(0, path.find('?'));
  if (path.empty() || path.front() != '/')
    throw ipc::Error(ipc::ErrorCode::bad_request, "the path must be /SERVICE");
  service = std::string(path.substr(1));
  if (auto why = ipc::ServiceName::why_invalid(service); !why.empty())
    throw ipc::Error(ipc::ErrorCode::bad_request, "the path must be /SERVICE: " + why);

  const auto origin = std::string_view(request[http::field::origin]);
  if (!context.settings.origins.allows(origin, request[http::field::host]))
    throw ipc::Error(ipc::ErrorCode::denied, "origin " + std::string(origin) + " is not allowed");

  const auto chosen = choose_subprotocol(request[http::field::sec_websocket_protocol]);
  if (!chosen)
    throw ipc::Error(ipc::ErrorCode::bad_request,
                     "no subprotocol offered that websocketd speaks (ipc.frame or ipc.text)");
  mode = *chosen;
  if (may_adopt) handoff = handoff_request(request, service, mode);

  // The firewall and redirections live in ipcd, for both directions (DESIGN §8).
  // A named local, not a temporary in the co_await expression: GCC 12 destroys such
  // temporaries twice when they are passed by value to a coroutine.
  ipc::InboundRequest inbound{service, ipc::parse_scheme(scheme).value_or(ipc::Scheme::ws), peer, "", ""};
  inbound.adopt = !handoff.empty();
  co_return co_await ipc::async_inbound_answer(context.settings.rundir, std::move(inbound), context.settings.timeout);
}

// `Stream` is beast::tcp_stream (ws://) or TlsStream (wss://). `early_bytes`: what the client
// sent past its request (read into the HTTP buffer already).
template <class Stream>
asio::awaitable<void> upgrade(Stream stream, Request request, std::size_t early_bytes,
                              std::optional<ipc::PeerLimit::Slot>& per_peer, const std::string& peer,
                              const char* scheme, Context& context) {
  Subprotocol mode = Subprotocol::none;
  std::string service;
  std::optional<ipc::Error> refusal;
  // Plain ws:// may go to the service itself; wss:// cannot (TLS lives in this process).
  const bool may_adopt = context.settings.handoff && std::is_same_v<Stream, beast::tcp_stream>;
  std::string handoff;
  ipc::InboundAnswer answer{ipc::UnixSocket(stream.get_executor()), false};
  ipc::UnixSocket local(stream.get_executor());
  try {
    answer = co_await admit(request, early_bytes, peer, scheme, may_adopt, mode, service, handoff, context);
    if (!answer.adoption) local = std::move(answer.socket);
    if constexpr (std::is_same_v<Stream, beast::tcp_stream>) {
      if (answer.adoption) {
        // The service answers the upgrade itself and keeps the connection; websocketd keeps
        // nothing. Its place under --max-per-peer goes with it: ADOPT says the limit, the service
        // counts (and answers 503 over it).
        ipc::Adoption adoption{ipc::InboundRequest{service, ipc::Scheme::ws, peer, "", ""},
                               context.settings.max_per_peer, handoff,
                               std::string(mode == Subprotocol::none ? "" : to_string(mode))};
        auto relayed = co_await ipc::async_adopt_or_relay(stream.socket(), answer.socket, adoption,
                                                          context.settings.rundir, context.settings.timeout, nullptr,
                                                          "ws " + peer);
        if (!relayed) co_return;
        local = std::move(*relayed);
      }
    }
  } catch (const ipc::Error& e) {
    refusal = e;
  }
  if (refusal) {
    // Refused before upgrading: the status says why, the body carries "code: text".
    ipc::log_info(scheme, " ", peer, " ", std::string_view(request.target()), ": ", refusal->what());
    auto response = text_response(request, status_for(refusal->code()), refusal->payload());
    response.keep_alive(false);
    beast::get_lowest_layer(stream).expires_after(context.settings.timeout);
    co_await http::async_write(stream, response, use_nothrow);
    boost::system::error_code ignored;
    beast::get_lowest_layer(stream).socket().shutdown(tcp::socket::shutdown_send, ignored);
    co_return;
  }

  beast::get_lowest_layer(stream).expires_never();  // from now on the WebSocket's own timeouts apply
  using Ws = websocket::stream<Stream>;
  ipc::ConnectionLimits limits{context.settings.max_message, 1024 * 1024};
  limits.write_timeout = context.settings.write_timeout;
  auto state = std::make_shared<Upgraded<Ws>>(
      std::move(stream), std::move(local), limits,
      RelayOptions{mode, context.settings.max_message, &context.server, std::string(scheme) + " " + peer + " " + service,
                   &context.budget, context.settings.write_timeout});
  state->per_peer = std::move(per_peer);
  Ws& ws = state->ws;
  ipc::ws::StreamSettings stream_settings{mode, context.settings.max_message, context.settings.timeout,
                                          context.settings.idle_timeout, "websocketd (ipc)"};
  ipc::ws::prepare_server_stream(ws, stream_settings);
  auto [ec] = co_await ws.async_accept(request, use_nothrow);
  if (ec) {
    ipc::log_info(scheme, " ", peer, " ", service, ": handshake failed: ", ec.message());
    co_return;
  }
  ipc::log_debug(scheme, " ", peer, ": connected to ", service, " (", to_string(mode), ")");
  // The relay goes on as a session of its own in the same group, and this HTTP session ends:
  // its frames (the request, the parser, the read buffer) are not kept for the relay's life.
  context.server.start(*context.peers, [state](ipc::SessionTicket ticket) { return relay_session(state, std::move(ticket)); });
}

// HTTP requests until one asks for an upgrade, on a plain or TLS stream.
template <class Stream>
asio::awaitable<void> serve(Stream stream, ipc::Session& session, std::optional<ipc::PeerLimit::Slot>& per_peer,
                            const std::string& peer, const char* scheme, Context& context) {
  beast::flat_buffer buffer;
  std::optional<HttpHooks> hooks;
  hooks.emplace(session, beast::get_lowest_layer(stream).socket().native_handle());
  for (;;) {
    hooks->waiting(true);
    http::request_parser<http::string_body> parser;
    parser.header_limit(max_request_header);
    parser.body_limit(max_request_body);
    beast::get_lowest_layer(stream).expires_after(context.settings.timeout);  // slow or silent clients are dropped
    auto [read_error, n] = co_await http::async_read(stream, buffer, parser, use_nothrow);
    if (read_error) {
      if (read_error != http::error::end_of_stream && read_error != beast::error::timeout)
        ipc::log_debug("http ", peer, ": ", read_error.message());
      // A request that is not HTTP gets the answer an HTTP server gives, then the connection ends.
      if (const auto status = status_for_malformed(read_error)) {
        ipc::log_info(scheme, " ", peer, ": ", read_error.message(), ": answered ", static_cast<int>(*status));
        co_await refuse(stream, *status, "bad-request: " + read_error.message(), context);
        co_return;
      }
      break;
    }
    hooks->waiting(false);
    Request request = parser.release();
    // The Host check before anything else: a DNS-rebinding page names a host that is not ours.
    const std::string_view host = request[http::field::host];
    if (request.count(http::field::host) > 1) {
      const std::string why = "bad-request: more than one Host header";
      ipc::log_info(scheme, " ", peer, ": ", why);
      co_await refuse(stream, http::status::bad_request, why, context);
      co_return;
    }
    boost::system::error_code local_error;
    const auto local = beast::get_lowest_layer(stream).socket().local_endpoint(local_error);
    if (local_error) co_return;
    if (!context.settings.hosts.allows(host, local.address())) {
      const std::string why = host.empty() ? "denied: a Host header is required"
                                           : "denied: " + ipc::printable(host) +
                                                 " is not a name of this websocketd (--host NAME adds one)";
      ipc::log_info(scheme, " ", peer, " ", ipc::printable(std::string_view(request.target())), ": ", why);
      co_await refuse(stream, host.empty() ? http::status::bad_request : http::status::misdirected_request, why, context);
      co_return;
    }
    if (websocket::is_upgrade(request)) {
      hooks.reset();
      co_await upgrade(std::move(stream), std::move(request), buffer.size(), per_peer, peer, scheme, context);
      co_return;
    }
    auto answer = serve_static(context.settings.static_dir, request);
    const bool keep_alive = answer.keep_alive();
    beast::get_lowest_layer(stream).expires_after(context.settings.timeout);
    auto [write_error, written] = co_await beast::async_write(stream, std::move(answer), use_nothrow);
    if (write_error || !keep_alive || context.server.stopping()) break;
  }
  boost::system::error_code ignored;
  beast::get_lowest_layer(stream).socket().shutdown(tcp::socket::shutdown_send, ignored);
}

}  // namespace

asio::awaitable<void> http_session(tcp::socket socket, ipc::SessionTicket ticket, Context& context) {
  ipc::Session& session = *ticket;
  boost::system::error_code ec;
  const auto remote = socket.remote_endpoint(ec);
  if (ec) co_return;
  const auto peer = ipc::endpoint_text(remote);
  const std::string address = ipc::canonical_address(remote.address());
  auto per_peer = context.per_peer.take(address);
  // No delay (messages are small and latency matters), keepalive (a vanished peer is noticed).
  ipc::tune_tcp(socket.native_handle(), context.settings.keepalive);
  beast::tcp_stream stream(std::move(socket));
  if (!per_peer) {
    // Before TLS and before reading a request: told why on plain HTTP, closed either way.
    const std::string why = "unavailable: " + address + " already holds " + std::to_string(context.per_peer.max()) +
                            " connections to this websocketd (--max-per-peer)";
    ipc::log_info(context.server_tls ? "wss " : "ws ", peer, ": ", why);
    if (context.server_tls == nullptr) co_await refuse(stream, http::status::service_unavailable, why, context);
    co_return;
  }
  // The address's place (--max-per-peer) is held as long as this frame: through the HTTP
  // requests and, after an upgrade, the relay.
  if (context.server_tls == nullptr) {
    co_await serve(std::move(stream), session, per_peer, peer, "ws", context);
    co_return;
  }
  // TLS first, within the deadline: a client that stalls in the handshake is dropped, and may be
  // shed at the cap meanwhile.
  std::optional<HttpHooks> hooks;
  hooks.emplace(session, stream.socket().native_handle());
  TlsStream tls(std::move(stream), *context.server_tls);
  beast::get_lowest_layer(tls).expires_after(context.settings.timeout);
  auto [handshake_error] = co_await tls.async_handshake(asio::ssl::stream_base::server, use_nothrow);
  if (handshake_error) {
    ipc::log_info("wss ", peer, ": TLS handshake failed: ",
                  handshake_error == beast::error::timeout ? "no handshake within the deadline" : handshake_error.message());
    co_return;
  }
  hooks.reset();
  co_await serve(std::move(tls), session, per_peer, peer, "wss", context);
}

}  // namespace websocketd
