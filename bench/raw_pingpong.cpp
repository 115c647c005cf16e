// raw_pingpong: the physical limit for pong's round trip. Two processes over a socketpair
// exchange frames of the same size as pong's (6-byte header + payload) with plain blocking
// write()/read() and no library at all; prints the same statistics as pong.
//   raw_pingpong [-n COUNT] [-s SIZE]
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

bool write_all(int fd, const char* data, std::size_t size) {
  while (size > 0) {
    const ssize_t n = ::write(fd, data, size);
    if (n <= 0) return false;
    data += n;
    size -= static_cast<std::size_t>(n);
  }
  return true;
}

bool read_all(int fd, char* data, std::size_t size) {
  while (size > 0) {
    const ssize_t n = ::read(fd, data, size);
    if (n <= 0) return false;
    data += n;
    size -= static_cast<std::size_t>(n);
  }
  return true;
}

}  // namespace

int main(int argc, char* argv[]) {
  long count = 10000;
  std::size_t size = 4;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "-n") == 0) count = std::atol(argv[i + 1]);
    else if (std::strcmp(argv[i], "-s") == 0) size = static_cast<std::size_t>(std::atol(argv[i + 1]));
    else { std::fprintf(stderr, "usage: raw_pingpong [-n COUNT] [-s SIZE]\n"); return 2; }
  }
  int pair[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM, 0, pair) != 0) return 1;
  const std::size_t frame = 6 + size;
  const pid_t child = ::fork();
  if (child == 0) {  // the echo side
    ::close(pair[0]);
    std::vector<char> buffer(frame);
    while (read_all(pair[1], buffer.data(), frame) && write_all(pair[1], buffer.data(), frame)) {}
    ::_exit(0);
  }
  ::close(pair[1]);
  std::vector<char> out(frame, 'x'), in(frame);
  std::vector<double> micros;
  micros.reserve(static_cast<std::size_t>(count));
  const auto started = std::chrono::steady_clock::now();
  for (long i = 0; i < count; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    if (!write_all(pair[0], out.data(), frame) || !read_all(pair[0], in.data(), frame)) return 1;
    micros.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count());
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  ::close(pair[0]);
  ::waitpid(child, nullptr, 0);
  std::sort(micros.begin(), micros.end());
  std::printf("raw_pingpong: %ld round trips of %zu bytes in %.3f s: median %.1f us, p99 %.1f us, max %.1f us\n",
              count, size, seconds, micros[micros.size() / 2], micros[static_cast<std::size_t>(0.99 * (micros.size() - 1))],
              micros.back());
  return 0;
}
