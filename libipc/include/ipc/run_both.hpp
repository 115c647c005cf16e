// Two coroutines at once, for the two directions of a relay: returns when both have finished.
//
// The cheap alternative to Asio's awaitable_operators `&&`, whose parallel group (an operator
// frame, a co_spawn entry per branch, cancellation slots) costs about 1.5 KiB per relayed
// connection, idle or not (measured by scripts/bench). There is no cancellation: each coroutine
// must end on its own, as a relay's directions do (a direction that ends closes both sides,
// which ends the other). If either throws, `stop` is called to make the other end, and the
// exception is rethrown once both have finished. A cancellation of the caller does not cut the
// wait for `first` short.
#pragma once

#include <functional>

#include "ipc/asio.hpp"

namespace ipc {

// `first` runs in a coroutine of its own (co_spawn on the caller's executor), `second` in the
// caller's. Pass named awaitables moved in, not temporaries: GCC 12 destroys temporaries passed
// by value to a coroutine twice.
asio::awaitable<void> run_both(asio::awaitable<void> first, asio::awaitable<void> second, std::function<void()> stop);

}  // namespace ipc
