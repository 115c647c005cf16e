// websocketd's code is written in libipc's WebSocket vocabulary (ipc::ws: the Boost.Beast names,
// the DESIGN §11 mapping, its relay, the message budget, the server side of an upgrade).
#pragma once

#include <ipc/ws/beast.hpp>
#include <ipc/ws/budget.hpp>
#include <ipc/ws/capped_stream.hpp>
#include <ipc/ws/mapping.hpp>
#include <ipc/ws/relay.hpp>

namespace websocketd {

using namespace ipc::ws;  // NOLINT(google-build-using-namespace): the vocabulary, on purpose

}  // namespace websocketd
