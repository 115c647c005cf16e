// ipc::write_all: everything arrives, in order, whether the kernel takes it at once or in parts.
#include <gtest/gtest.h>
#include <sys/socket.h>

#include <array>
#include <boost/asio/local/connect_pair.hpp>
#include <boost/asio/read.hpp>
#include <ipc/stream_write.hpp>
#include <string>
#include <thread>

namespace {

using namespace std::chrono_literals;
namespace asio = ipc::asio;

std::string pattern(std::size_t size) {
  std::string s(size, '\0');
  for (std::size_t i = 0; i < size; ++i) s[i] = static_cast<char>('a' + (i * 7 + i / 251) % 26);
  return s;
}

TEST(StreamWrite, WritesASmallMessageAtOnce) {
  asio::io_context io;
  ipc::UnixSocket a(io), b(io);
  asio::local::connect_pair(a, b);
  boost::system::error_code result = asio::error::fault;
  const std::array<asio::const_buffer, 2> buffers{asio::buffer("head", 4), asio::buffer("tail", 4)};
  asio::co_spawn(io, ipc::write_all(a, buffers), [&](std::exception_ptr, boost::system::error_code ec) { result = ec; });
  io.run_for(5s);
  EXPECT_FALSE(result);
  std::string got(8, '\0');
  asio::read(b, asio::buffer(got));
  EXPECT_EQ(got, "headtail");
}

TEST(StreamWrite, WritesTheRestWhenTheKernelTakesOnlyPartAndKeepsTheOrder) {
  // 4 MiB in three buffers through a socket whose send buffer is far smaller: the first
  // non-blocking send takes a part, the rest waits for the reader (a thread, reading slowly).
  asio::io_context io;
  ipc::UnixSocket a(io), b(io);
  asio::local::connect_pair(a, b);
  a.set_option(asio::socket_base::send_buffer_size(16 * 1024));
  const std::string one = pattern(1000), two = pattern(4 * 1024 * 1024), three = "end";
  const std::array<asio::const_buffer, 3> buffers{asio::buffer(one), asio::buffer(two), asio::buffer(three)};
  boost::system::error_code result = asio::error::fault;
  bool done = false;
  asio::co_spawn(io, ipc::write_all(a, buffers), [&](std::exception_ptr, boost::system::error_code ec) {
    result = ec;
    done = true;
  });
  std::string got;
  std::thread reader([&] {
    const int fd = b.native_handle();
    char chunk[4096];
    while (got.size() < one.size() + two.size() + three.size()) {
      const ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
      if (n <= 0) break;
      got.append(chunk, static_cast<std::size_t>(n));
    }
  });
  io.run_for(20s);
  reader.join();
  EXPECT_TRUE(done);
  EXPECT_FALSE(result);
  EXPECT_EQ(got, one + two + three);
}

TEST(StreamWrite, ReportsAPeerThatWentAway) {
  asio::io_context io;
  ipc::UnixSocket a(io), b(io);
  asio::local::connect_pair(a, b);
  b.close();
  boost::system::error_code result;
  asio::co_spawn(io, ipc::write_all(a, asio::buffer("lost", 4)), [&](std::exception_ptr, boost::system::error_code ec) {
    result = ec;
  });
  io.run_for(5s);
  EXPECT_EQ(result, asio::error::broken_pipe);  // and no SIGPIPE: the test is still running
}

}  // namespace
