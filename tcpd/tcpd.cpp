// The TCP protocol daemon's outbound and inbound sides (see tcpd.hpp).
#include "tcpd.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <ipc/broker.hpp>
#include <ipc/error.hpp>
#include <ipc/log.hpp>
#include <ipc/uri.hpp>
#include <memory>
#include <stdexcept>

#include "handshake.hpp"

namespace tcpd {
namespace asio = ipc::asio;
using asio::ip::tcp;
using ipc::Error;
using ipc::ErrorCode;

namespace {

const ipc::Message ok{ipc::MessageType::data, 0, "ok"};

std::string seconds(std::chrono::milliseconds d) {
  return std::to_string(static_cast<double>(d.count()) / 1000.0).substr(0, 4) + " s";
}

std::string text(const tcp::endpoint& endpoint) {
  const auto address = endpoint.address();
  return (address.is_v6() ? "[" + address.to_string() + "]" : address.to_string()) + ":" +
         std::to_string(endpoint.port());
}

// Cancels the socket's operations when the deadline passes; expired() tells afterwards.
template <class Socket>
class Deadline {
 public:
  Deadline(Socket& socket, std::chrono::milliseconds timeout)
      : timer_(socket.get_executor(), timeout), expired_(std::make_shared<bool>(false)) {
    timer_.async_wait([&socket, expired = expired_](const boost::system::error_code& ec) {
      if (ec) return;  // cancelled: the operation finished first
      *expired = true;
      boost::system::error_code ignored;
      socket.cancel(ignored);
    });
  }
  ~Deadline() { timer_.cancel(); }
  [[nodiscard]] bool expired() const { return *expired_; }

 private:
  asio::steady_timer timer_;
  std::shared_ptr<bool> expired_;
};

// Reads exactly one frame from TCP (nothing after it) within `timeout`.
asio::awaitable<ipc::Message> read_frame(TcpSocket& socket, std::chrono::milliseconds timeout, const char* what) {
  Deadline deadline(socket, timeout);
  std::uint8_t header[ipc::header_size];
  auto [ec, n] = co_await asio::async_read(socket, asio::buffer(header), ipc::use_nothrow);
  if (deadline.expired()) throw Error(ErrorCode::timeout, std::string(what) + " did not complete within " + seconds(timeout));
  if (ec) throw Error(ErrorCode::unavailable, std::string(what) + ": the connection closed (" + ec.message() + ")");
  const auto h = ipc::decode_header(header);
  if (h.length > max_handshake)
    throw Error(ErrorCode::too_large, std::string(what) + ": a frame of " + std::to_string(h.length) +
                                          " bytes, over the limit of " + std::to_string(max_handshake));
  ipc::Message frame{static_cast<ipc::MessageType>(h.type), h.user_type, std::string(h.length, '\0')};
  auto [ec2, m] = co_await asio::async_read(socket, asio::buffer(frame.payload), ipc::use_nothrow);
  if (deadline.expired()) throw Error(ErrorCode::timeout, std::string(what) + " did not complete within " + seconds(timeout));
  if (ec2) throw Error(ErrorCode::unavailable, std::string(what) + ": the connection closed (" + ec2.message() + ")");
  co_return frame;
}

asio::awaitable<void> write_frame(TcpSocket& socket, const ipc::Message& frame, std::chrono::milliseconds timeout) {
  Deadline deadline(socket, timeout);
  const std::string bytes = ipc::encode(frame);
  auto [ec, n] = co_await asio::async_write(socket, asio::buffer(bytes), ipc::use_nothrow);
  if (deadline.expired()) throw Error(ErrorCode::timeout, "the remote side did not read in time");
  if (ec) throw Error(ErrorCode::unavailable, "the connection closed (" + ec.message() + ")");
}

}  // namespace

tcp::endpoint parse_listen(const std::string& value) {
  const auto colon = value.rfind(':');
  if (colon == std::string::npos || colon + 1 == value.size())
    throw std::invalid_argument("'" + value + "': expected HOST:PORT");
  std::string host = value.substr(0, colon);
  const std::string port_text = value.substr(colon + 1);
  if (port_text.size() > 5 || port_text.find_first_not_of("0123456789") != std::string::npos ||
      std::stol(port_text) > 65535)
    throw std::invalid_argument("'" + value + "': the port must be a number from 0 to 65535");
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  if (host == "localhost") host = "127.0.0.1";
  boost::system::error_code ec;
  const auto address = asio::ip::make_address(host, ec);
  if (ec) throw std::invalid_argument("'" + value + "': '" + host + "' is not an IP address (or localhost)");
  return {address, static_cast<std::uint16_t>(std::stol(port_text))};
}

Tcpd::Tcpd(ipc::Service& service, Settings settings)
    : service_(service), settings_(std::move(settings)), session_ended_(service.io().get_executor()) {}

void Tcpd::start() {
  for (const auto& endpoint : settings_.listen) {
    auto& acceptor = acceptors_.emplace_back(service_.io());
    boost::system::error_code ec;
    acceptor.open(endpoint.protocol(), ec);
    if (!ec) acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec) acceptor.bind(endpoint, ec);
    if (!ec) acceptor.listen(tcp::acceptor::max_listen_connections, ec);
    if (ec) throw std::runtime_error("cannot listen on " + text(endpoint) + ": " + ec.message());
    ipc::log_info("listening on ", text(acceptor.local_endpoint()));
    asio::co_spawn(service_.io(), accept_loop(acceptor), asio::detached);
  }
  service_.listen(ipc::ServiceName("tcp"), [this](ipc::Connection& c) { return outbound(c); });
  service_.listen(ipc::ServiceName("tls"), [this](ipc::Connection& ipcd) -> asio::awaitable<void> {
    // Read the request first: closing with it unread would reset the connection under ipcd.
    ipc::Message request;
    if (!co_await ipcd.receive(request, settings_.handshake_timeout)) co_return;
    throw Error(ErrorCode::unsupported_scheme, "tls is not supported yet");
  });
  service_.on_stop([this] { stop(); });
}

void Tcpd::stop() {
  stopping_ = true;
  for (auto& acceptor : acceptors_) {
    boost::system::error_code ignored;
    acceptor.close(ignored);
  }
  session_ended_.notify_all();
}

asio::awaitable<void> Tcpd::outbound(ipc::Connection& ipcd) {
  using namespace asio::experimental::awaitable_operators;
  ipc::Message request;
  if (!co_await ipcd.receive(request, settings_.handshake_timeout)) co_return;
  const ConnectRequest connect = parse_connect_request(request);
  const ipc::Uri uri = ipc::Uri::parse(connect.uri);
  if (uri.scheme() != ipc::Scheme::tcp)
    throw Error(ErrorCode::bad_request, "tcpd takes tcp:// URIs here, not " + uri.str());
  // Never over plain TCP: refused before any connection is made.
  if (uri.password())
    throw Error(ErrorCode::bad_request, "a password is never sent over plain tcp://; use tls://");
  const auto executor = co_await asio::this_coro::executor;

  // Resolve and connect, both within the connect timeout.
  asio::steady_timer timer(executor, settings_.connect_timeout);
  tcp::resolver resolver(executor);
  auto resolved = co_await (resolver.async_resolve(uri.host(), std::to_string(uri.port()), ipc::use_nothrow) ||
                            timer.async_wait(ipc::use_nothrow));
  if (resolved.index() == 1)
    throw Error(ErrorCode::timeout, "could not resolve " + uri.host() + " within " + seconds(settings_.connect_timeout));
  auto [resolve_error, endpoints] = std::get<0>(std::move(resolved));
  if (resolve_error) throw Error(ErrorCode::unreachable, "cannot resolve " + uri.host() + ": " + resolve_error.message());
  TcpSocket remote(executor);
  auto connected =
      co_await (asio::async_connect(remote, endpoints, ipc::use_nothrow) || timer.async_wait(ipc::use_nothrow));
  if (connected.index() == 1)
    throw Error(ErrorCode::timeout, "no TCP connection to " + uri.authority() + " within " +
                                        seconds(settings_.connect_timeout));
  if (auto [ec, endpoint] = std::get<0>(connected); ec) {
    if (ec == asio::error::connection_refused) throw Error(ErrorCode::refused, uri.authority() + " refused the connection");
    throw Error(ErrorCode::unreachable, uri.authority() + ": " + ec.message());
  }
  tune(remote);

  // The remote handshake (DESIGN §7).
  const ipc::Message hello = encode_handshake({uri.service(), uri.user(), std::nullopt});
  co_await write_frame(remote, hello, settings_.handshake_timeout);
  const ipc::Message answer = co_await read_frame(remote, settings_.handshake_timeout, "the remote handshake");
  if (answer.type == ipc::MessageType::error) {
    // The remote's code and text go to ipcd, and from there to the client, as they are.
    ipc::log_info("CONNECT ", uri.str(), ": the remote side said ", answer.payload);
    co_await ipcd.send(answer);
    co_return;
  }
  if (answer.type != ipc::MessageType::data || answer.payload != "ok")
    throw Error(ErrorCode::unreachable, uri.authority() + " does not speak the ipc protocol");
  if (!co_await ipcd.send(ok)) co_return;
  ipc::log_debug("CONNECT ", uri.str(), ": relaying");
  std::string pending = ipcd.decoder().take_buffered();
  co_await relay(std::move(ipcd.socket()), std::move(remote), std::move(pending));
}

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
  std::optional<Error> failure;
  std::optional<ipc::UnixSocket> local;
  try {
    const Handshake handshake = parse_handshake(co_await read_frame(socket, settings_.handshake_timeout, "the handshake"));
    if (handshake.password) throw Error(ErrorCode::bad_request, "passwords are not accepted over plain tcp://");
    ipc::InboundRequest request{handshake.service.str(), "tcp", peer_text, ""};
    local.emplace(co_await ipc::async_inbound(settings_.rundir, request, settings_.handshake_timeout));
  } catch (const Error& e) {
    failure = e;
  }
  if (failure) {
    ipc::log_info("inbound from ", peer_text, ": ", failure->what());
    try {
      co_await write_frame(socket, ipc::Message::error(failure->payload()), std::chrono::seconds(2));
    } catch (const Error&) {
    }
    co_return;
  }
  try {
    co_await write_frame(socket, ok, settings_.handshake_timeout);
  } catch (const Error& e) {
    ipc::log_info("inbound from ", peer_text, ": ", e.what());
    co_return;
  }
  ipc::log_debug("inbound from ", peer_text, ": relaying");
  co_await relay(std::move(*local), std::move(socket));
}

}  // namespace tcpd
