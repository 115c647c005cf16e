// ipc::Deadline: an operation bound to it is cancelled when the time is up and nothing else is;
// a deadline that expires as its operation completes reaches no later operation; progress
// starts the time again. And what is built on it: the write timeout (ipc::write_all with a stall
// timeout) and Connection::send_error's bound.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>
#include <vector>

#include <boost/asio/local/connect_pair.hpp>
#include <ipc/connection.hpp>
#include <ipc/deadline.hpp>
#include <ipc/stream_write.hpp>

namespace {

using namespace std::chrono_literals;
namespace asio = ipc::asio;
using ipc::UnixSocket;

struct Pair {
  asio::io_context io;
  UnixSocket ours{io};
  UnixSocket theirs{io};
  Pair() { asio::local::connect_pair(ours, theirs); }
};

template <class Body>
void run(asio::io_context& io, Body body) {
  std::exception_ptr failure;
  bool done = false;
  asio::co_spawn(io, body(), [&](std::exception_ptr e) {
    failure = e;
    done = true;
  });
  io.run_for(10s);
  ASSERT_TRUE(done) << "the coroutine did not finish";
  if (failure) std::rethrow_exception(failure);
}

TEST(Deadline, CancelsTheOperationBoundToItAndNotAConcurrentOneOnTheSameSocket) {
  Pair p;
  // Our side's send buffer full: a writer's wait for room stays pending until the other side
  // reads, across the moment the read's deadline expires.
  p.ours.non_blocking(true);
  const std::string block(64 * 1024, 'f');
  std::size_t filled = 0;
  for (;;) {
    const ssize_t n = ::send(p.ours.native_handle(), block.data(), block.size(), MSG_DONTWAIT);
    if (n <= 0) break;
    filled += static_cast<std::size_t>(n);
  }
  ASSERT_GT(filled, 0u);
  bool read_cancelled = false;
  bool write_ready = false;
  bool write_done = false;
  run(p.io, [&]() -> asio::awaitable<void> {
    asio::co_spawn(
        p.io,
        [&]() -> asio::awaitable<void> {
          auto [ec] = co_await p.ours.async_wait(UnixSocket::wait_write, ipc::use_nothrow);
          write_ready = !ec;
          write_done = true;
        },
        asio::detached);
    ipc::Deadline deadline(p.io.get_executor(), 20ms);
    char byte;
    auto [ec, n] = co_await p.ours.async_read_some(asio::buffer(&byte, 1), deadline.bind(ipc::use_nothrow));
    read_cancelled = ec == asio::error::operation_aborted && deadline.expired();
    EXPECT_FALSE(write_done) << "the writer's wait ended with the read";
    // Now the other side reads: the writer gets its room.
    std::vector<char> sink(filled);
    std::size_t drained = 0;
    while (drained < filled && !write_done) {
      const ssize_t got = ::recv(p.theirs.native_handle(), sink.data(), sink.size(), MSG_DONTWAIT);
      if (got > 0) drained += static_cast<std::size_t>(got);
      asio::steady_timer turn(p.io, 1ms);
      co_await turn.async_wait(ipc::use_nothrow);
    }
  });
  EXPECT_TRUE(read_cancelled);
  EXPECT_TRUE(write_done);
  EXPECT_TRUE(write_ready);
}

TEST(Deadline, ThatExpiresAsItsFrameArrivesReachesNoLaterOperation) {
  // The race: the timer's handler is queued in the same turn of the event loop as the read's
  // completion. Made to happen by letting the timer fall due while the loop is not running, then
  // delivering the frame before it runs again: both are ready at its next epoll_wait.
  int raced = 0;  // rounds in which the race was set up (a loaded machine may miss some)
  for (int round = 0; round < 200 && raced < 10; ++round) {
    Pair p;
    ipc::Connection connection(std::move(p.ours));
    int stage = 0;
    std::exception_ptr failure;
    bool finished = false;
    asio::co_spawn(
        p.io,
        [&]() -> asio::awaitable<void> {
          ipc::Message first;
          stage = 1;
          try {
            (void)co_await connection.receive(first, 20ms);
          } catch (const ipc::Error& e) {
            // Either outcome is right: the frame, or the timeout.
            EXPECT_EQ(e.code(), ipc::ErrorCode::timeout);
          }
          stage = 2;
          // What comes after must not be touched by that deadline: a send and a receive.
          EXPECT_TRUE(co_await connection.send(ipc::Message::data("answer")));
          ipc::Message second;
          EXPECT_TRUE(co_await connection.receive(second));
          if (second.payload != "second" && second.payload != "first") ADD_FAILURE() << second.payload;
          ipc::Message third;
          if (second.payload == "first") {
            EXPECT_TRUE(co_await connection.receive(third));
            EXPECT_EQ(third.payload, "second");
          }
        },
        [&](std::exception_ptr e) {
          failure = e;
          finished = true;
        });
    p.io.poll();  // the coroutine is now waiting for the frame, the timer armed
    if (stage != 1) {
      // The deadline passed while the loop ran (a loaded machine): no race this round; the
      // frames still come, and what follows must still work.
      for (const char* text : {"first", "second"}) {
        const std::string frame = ipc::encode(ipc::Message::data(text));
        ASSERT_EQ(::write(p.theirs.native_handle(), frame.data(), frame.size()), static_cast<ssize_t>(frame.size()));
      }
      p.io.run_for(5s);
      ASSERT_TRUE(finished);
      if (failure) std::rethrow_exception(failure);
      continue;
    }
    ++raced;
    std::this_thread::sleep_for(30ms);  // the timer falls due while nothing runs
    const std::string first = ipc::encode(ipc::Message::data("first"));
    ASSERT_EQ(::write(p.theirs.native_handle(), first.data(), first.size()), static_cast<ssize_t>(first.size()));
    p.io.poll();  // both the frame and the timer are ready now
    const std::string second = ipc::encode(ipc::Message::data("second"));
    ASSERT_EQ(::write(p.theirs.native_handle(), second.data(), second.size()), static_cast<ssize_t>(second.size()));
    p.io.run_for(5s);
    ASSERT_TRUE(finished) << "round " << round;
    if (failure) std::rethrow_exception(failure);
    char answer[64];
    const ssize_t n = ::recv(p.theirs.native_handle(), answer, sizeof answer, MSG_DONTWAIT);
    EXPECT_GT(n, 0) << "round " << round;
  }
  EXPECT_EQ(raced, 10);
}

TEST(Deadline, StartsAgainWhenTheOperationMadeProgress) {
  asio::io_context io;
  int asked = 0;
  int asked_when_fired = -1;
  run(io, [&]() -> asio::awaitable<void> {
    // Progress the first two times it is asked, then none: it fires the third time, not the first.
    ipc::Deadline deadline(
        io.get_executor(), 10ms, [&] { asked_when_fired = asked; }, [&] { return ++asked < 3; });
    asio::steady_timer end(io, 300ms);
    co_await end.async_wait(ipc::use_nothrow);
    EXPECT_TRUE(deadline.expired());
  });
  EXPECT_EQ(asked_when_fired, 3);
}

TEST(Connection, GivesUpAnErrorThePeerDoesNotTakeWithinItsTimeoutAndCloses) {
  Pair p;
  // The peer reads nothing and the socket's buffers are full: the ERROR cannot go out.
  p.ours.non_blocking(true);
  const std::string block(64 * 1024, 'x');
  while (::send(p.ours.native_handle(), block.data(), block.size(), MSG_DONTWAIT) > 0) {
  }
  ipc::ConnectionLimits limits;
  limits.write_timeout = std::chrono::hours(1);  // not what ends it
  ipc::Connection connection(std::move(p.ours), limits);
  bool closed = false;
  run(p.io, [&]() -> asio::awaitable<void> {
    co_await connection.send_error(ipc::Error(ipc::ErrorCode::internal, "giving up"), 100ms);
    closed = !connection.is_open();
  });
  EXPECT_TRUE(closed);
}

TEST(WriteAll, GivesUpOnAReaderThatTakesNothingAndKeepsOneThatTakesSlowly) {
  // Stopped: nothing is ever read; the write times out once the socket buffers are full.
  {
    Pair p;
    boost::system::error_code result;
    run(p.io, [&]() -> asio::awaitable<void> {
      const std::string lots(8 * 1024 * 1024, 'x');
      result = co_await ipc::write_all(p.ours, asio::buffer(lots), 50ms);
    });
    EXPECT_EQ(result, asio::error::timed_out);
  }
  // Slow: a reader takes 64 KiB every 20 ms, with a stall timeout of 200 ms; it gets everything.
  {
    Pair p;
    boost::system::error_code result;
    std::size_t taken = 0;
    const std::size_t size = 2 * 1024 * 1024;
    run(p.io, [&]() -> asio::awaitable<void> {
      asio::co_spawn(
          p.io,
          [&]() -> asio::awaitable<void> {
            std::vector<char> chunk(64 * 1024);
            asio::steady_timer pace(p.io);
            while (taken < size) {
              pace.expires_after(20ms);
              co_await pace.async_wait(ipc::use_nothrow);
              auto [ec, n] = co_await p.theirs.async_read_some(asio::buffer(chunk), ipc::use_nothrow);
              if (ec) break;
              taken += n;
            }
          },
          asio::detached);
      const std::string lots(size, 'y');
      result = co_await ipc::write_all(p.ours, asio::buffer(lots), 200ms);
      while (taken < size) {
        asio::steady_timer wait(p.io, 10ms);
        co_await wait.async_wait(ipc::use_nothrow);
      }
    });
    EXPECT_FALSE(result) << result.message();
    EXPECT_EQ(taken, size);
  }
}

}  // namespace
