// The Boost.Beast names of libipc's WebSocket side (ipc::ws: the DESIGN §11 mapping and its
// relay, used by websocketd and by services that adopt ws:// connections), in one place. Beast
// is compiled once, in libipc (BOOST_BEAST_SEPARATE_COMPILATION), as Asio is.
#pragma once

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "ipc/asio.hpp"

namespace ipc::ws {

namespace asio = ipc::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using ipc::use_nothrow;

using WsStream = websocket::stream<beast::tcp_stream>;
// wss://: the same over TLS (contexts from libipc's ipc::tls).
using TlsStream = beast::ssl_stream<beast::tcp_stream>;
using WssStream = websocket::stream<TlsStream>;

}  // namespace ipc::ws
