// The Boost.Beast names and libipc's WebSocket side (ipc::ws: the DESIGN §11 mapping, its relay,
// the message budget) as websocketd's code spells them.
#pragma once

#include <ipc/ws/beast.hpp>
#include <ipc/ws/budget.hpp>
#include <ipc/ws/capped_stream.hpp>
#include <ipc/ws/mapping.hpp>
#include <ipc/ws/relay.hpp>

namespace websocketd {

namespace asio = ipc::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using ipc::use_nothrow;

using ipc::ws::choose_subprotocol;
using ipc::ws::frame_from_message;
using ipc::ws::is_valid_utf8;
using ipc::ws::MessageBudget;
using ipc::ws::OutboundWssStream;
using ipc::ws::OutboundWsStream;
using ipc::ws::relay;
using ipc::ws::RelayOptions;
using ipc::ws::Subprotocol;
using ipc::ws::TlsStream;
using ipc::ws::to_string;
using ipc::ws::WssStream;
using ipc::ws::WsStream;
using ipc::ws::CappedStream;
using ipc::ws::subprotocol_frame;
using ipc::ws::subprotocol_text;

}  // namespace websocketd
