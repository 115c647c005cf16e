// raw_pingpong: the physical limit for pong's round trip. Two processes over a socketpair
// exchange frames of the same size as pong's (6-byte header + payload) with plain blocking
// write()/read() and no library at all; prints the same statistics as pong.
//
// With -r N, N relay processes sit between them, each copying bytes both ways with poll(),
// read() and write() (a 64 KiB buffer per direction, nothing else): the floor for a path with
// N daemons in the middle (websocketd's is one, tcpd on two hosts is two).
//
// With -t, the two processes talk over a loopback TCP connection (TCP_NODELAY) instead: what a
// remote round trip costs with no daemon in the data path (the handoff's floor).
//   raw_pingpong [-n COUNT] [-s SIZE] [-r RELAYS | -t]
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
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

// Copies bytes between `a` and `b` both ways until either side closes.
[[noreturn]] void relay(int a, int b) {
  std::vector<char> buffer(64 * 1024);
  pollfd fds[2] = {{a, POLLIN, 0}, {b, POLLIN, 0}};
  for (;;) {
    if (::poll(fds, 2, -1) < 0) ::_exit(1);
    for (int i = 0; i < 2; ++i) {
      if (fds[i].revents == 0) continue;
      const ssize_t n = ::read(fds[i].fd, buffer.data(), buffer.size());
      if (n <= 0 || !write_all(fds[1 - i].fd, buffer.data(), static_cast<std::size_t>(n))) ::_exit(0);
    }
  }
}

// A loopback TCP connection: both ends, TCP_NODELAY. False when it cannot be made.
bool tcp_pair(std::array<int, 2>& ends) {
  const int listener = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  if (listener < 0 || ::bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      ::listen(listener, 1) != 0 || ::getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length) != 0)
    return false;
  ends[0] = ::socket(AF_INET, SOCK_STREAM, 0);
  if (ends[0] < 0 || ::connect(ends[0], reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) return false;
  ends[1] = ::accept(listener, nullptr, nullptr);
  ::close(listener);
  const int on = 1;
  for (const int fd : ends) {
    if (fd < 0 || ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on) != 0) return false;
  }
  return true;
}

constexpr const char* usage = "usage: raw_pingpong [-n COUNT] [-s SIZE] [-r RELAYS | -t]\n";

}  // namespace

int main(int argc, char* argv[]) {
  long count = 10000;
  std::size_t size = 4;
  int relays = 0;
  bool tcp = false;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "-t") == 0) { tcp = true; continue; }
    if (i + 1 >= argc) { std::fprintf(stderr, "%s", usage); return 2; }
    if (std::strcmp(argv[i], "-n") == 0) count = std::atol(argv[++i]);
    else if (std::strcmp(argv[i], "-s") == 0) size = static_cast<std::size_t>(std::atol(argv[++i]));
    else if (std::strcmp(argv[i], "-r") == 0) relays = std::atoi(argv[++i]);
    else { std::fprintf(stderr, "%s", usage); return 2; }
  }
  if (count < 1 || relays < 0 || relays > 8 || size > (1u << 30) || (tcp && relays > 0)) {
    std::fprintf(stderr, "raw_pingpong: -n at least 1, -r from 0 to 8 (and not with -t), -s at most 1 GiB\n");
    return 2;
  }
  // A chain of socketpairs: us = pairs[0][0] ... relay k joins pairs[k][1] and pairs[k+1][0]
  // ... the echo side holds pairs[relays][1].
  std::vector<std::array<int, 2>> pairs(static_cast<std::size_t>(relays) + 1);
  if (tcp) {
    if (!tcp_pair(pairs[0])) return 1;
  } else {
    for (auto& p : pairs)
      if (::socketpair(AF_UNIX, SOCK_STREAM, 0, p.data()) != 0) return 1;
  }
  const std::size_t frame = 6 + size;
  std::vector<pid_t> children;
  for (int k = 0; k < relays; ++k) {
    const pid_t pid = ::fork();
    if (pid == 0) {
      const int a = pairs[static_cast<std::size_t>(k)][1], b = pairs[static_cast<std::size_t>(k) + 1][0];
      for (auto& p : pairs)
        for (int fd : p)
          if (fd != a && fd != b) ::close(fd);
      relay(a, b);
    }
    children.push_back(pid);
  }
  const pid_t child = ::fork();
  if (child == 0) {  // the echo side
    const int echo = pairs.back()[1];
    for (auto& p : pairs)
      for (int fd : p)
        if (fd != echo) ::close(fd);
    std::vector<char> buffer(frame);
    while (read_all(echo, buffer.data(), frame) && write_all(echo, buffer.data(), frame)) {}
    ::_exit(0);
  }
  children.push_back(child);
  for (std::size_t k = 0; k < pairs.size(); ++k) {
    if (k > 0) ::close(pairs[k][0]);
    ::close(pairs[k][1]);
  }
  const int us = pairs[0][0];
  std::vector<char> out(frame, 'x'), in(frame);
  std::vector<double> micros;
  micros.reserve(static_cast<std::size_t>(count));
  const auto started = std::chrono::steady_clock::now();
  for (long i = 0; i < count; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    if (!write_all(us, out.data(), frame) || !read_all(us, in.data(), frame)) return 1;
    micros.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count());
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  ::close(us);  // the first relay (or the echo side) sees EOF, and so on down the chain
  for (const pid_t pid : children) ::waitpid(pid, nullptr, 0);
  std::sort(micros.begin(), micros.end());
  std::printf("raw_pingpong: %ld round trips of %zu bytes %s in %.3f s: median %.1f us, p99 %.1f us, max %.1f us\n",
              count, size, tcp ? "over loopback TCP" : ("through " + std::to_string(relays) + " relays").c_str(), seconds, micros[micros.size() / 2], micros[static_cast<std::size_t>(0.99 * (micros.size() - 1))],
              micros.back());
  return 0;
}
