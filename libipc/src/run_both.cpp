// Two coroutines at once (see run_both.hpp).
#include "ipc/run_both.hpp"

#include <exception>

namespace ipc {

asio::awaitable<void> run_both(asio::awaitable<void> first, asio::awaitable<void> second, std::function<void()> stop) {
  const auto executor = co_await asio::this_coro::executor;
  // This frame outlives `first`: it waits for it below, so the handler's references stay valid.
  Signal finished(executor);
  bool first_done = false;
  std::exception_ptr first_failure, second_failure;
  asio::co_spawn(executor, std::move(first), [&](std::exception_ptr e) {
    first_failure = e;
    first_done = true;
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
