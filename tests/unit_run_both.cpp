// ipc::run_both: two coroutines at once, both finished before it returns, failures passed on.
#include <gtest/gtest.h>

#include <ipc/run_both.hpp>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

using namespace std::chrono_literals;
namespace asio = ipc::asio;

// Waits on `signal` until `flag` is set: a coroutine that ends only when told to.
asio::awaitable<void> wait_until_set(ipc::Signal& signal, const bool& flag, std::vector<std::string>& log,
                                     std::string name) {
  while (!flag) co_await signal.wait();
  log.push_back(name + " ended");
}

asio::awaitable<void> sets(ipc::Signal& signal, bool& flag, std::vector<std::string>& log, std::string name) {
  asio::steady_timer timer(co_await asio::this_coro::executor, 5ms);
  co_await timer.async_wait(asio::use_awaitable);
  flag = true;
  signal.notify_all();
  log.push_back(name + " ended");
}

asio::awaitable<void> throws(std::string what) {
  co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);
  throw std::runtime_error(what);
}

template <class Body>
void run(Body body) {
  asio::io_context io;
  std::exception_ptr failure;
  asio::co_spawn(io, body(), [&](std::exception_ptr e) { failure = e; });
  io.run_for(5s);
  if (failure) std::rethrow_exception(failure);
}

TEST(RunBoth, ReturnsOnlyOnceBothCoroutinesHaveEnded) {
  std::vector<std::string> log;
  run([&]() -> asio::awaitable<void> {
    ipc::Signal signal(co_await asio::this_coro::executor);
    bool flag = false;
    // `first` waits for what `second` does a little later.
    auto first = wait_until_set(signal, flag, log, "first");
    auto second = sets(signal, flag, log, "second");
    co_await ipc::run_both(std::move(first), std::move(second), [] {});
    log.push_back("both");
  });
  EXPECT_EQ(log, (std::vector<std::string>{"second ended", "first ended", "both"}));
}

TEST(RunBoth, StopsTheFirstWhenTheSecondThrowsAndPassesTheErrorOn) {
  std::vector<std::string> log;
  bool stopped = false;
  EXPECT_THROW(run([&]() -> asio::awaitable<void> {
                 ipc::Signal signal(co_await asio::this_coro::executor);
                 bool flag = false;
                 auto first = wait_until_set(signal, flag, log, "first");
                 auto second = throws("second failed");
                 co_await ipc::run_both(std::move(first), std::move(second), [&] {
                   stopped = true;
                   flag = true;
                   signal.notify_all();
                 });
                 log.push_back("not reached");
               }),
               std::runtime_error);
  EXPECT_TRUE(stopped);
  EXPECT_EQ(log, (std::vector<std::string>{"first ended"}));
}

TEST(RunBoth, PassesOnTheFirstOnesErrorAfterTheSecondEnded) {
  std::vector<std::string> log;
  try {
    run([&]() -> asio::awaitable<void> {
      ipc::Signal signal(co_await asio::this_coro::executor);
      bool flag = false;
      auto first = throws("first failed");
      auto second = sets(signal, flag, log, "second");
      co_await ipc::run_both(std::move(first), std::move(second), [] {});
    });
    FAIL() << "no exception";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "first failed");
  }
  EXPECT_EQ(log, (std::vector<std::string>{"second ended"}));
}

}  // namespace
