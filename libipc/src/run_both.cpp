// Two coroutines at once (see run_both.hpp).
#include "ipc/run_both.hpp"

#include <exception>

namespace ipc {

asio::awaitable<void> run_both(asio::awaitable<void> first, asio::awaitable<void> second, std::function<void()> stop) {
  // This frame must outlive `first` (the handler below refers to it, and `first` to what the
  // caller's frame holds): it waits for `first` below, and a cancellation of the caller must not
  // turn that wait into an exception that unwinds this frame early.
  co_await asio::this_coro::throw_if_cancelled(false);
  const auto executor = co_await asio::this_coro::executor;
  Signal finished(executor);
  bool first_done = false;
  std::exception_ptr first_failure, second_failure;
  asio::co_spawn(executor, std::move(first), [&](std::exception_ptr e) {
    first_failure = e;
    first_done = true;
    if (e && stop) stop();  // make `second` end too
    finished.notify_all();
  });
  try {
    co_await std::move(second);
  } catch (...) {
    second_failure = std::current_exception();
    if (stop) stop();
  }
  while (!first_done) co_await finished.wait();
  if (second_failure) std::rethrow_exception(second_failure);
  if (first_failure) std::rethrow_exception(first_failure);
}

}  // namespace ipc
