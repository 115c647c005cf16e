// TCP socket options and TCP_INFO's acknowledged bytes (see tcp_socket.hpp). This file includes
// the kernel's <linux/tcp.h> and nothing that includes glibc's <netinet/tcp.h>: both define
// struct tcp_info, and glibc's copy ends before tcpi_bytes_acked.
#include "ipc/tcp_socket.hpp"

#include <linux/tcp.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstddef>

namespace ipc {

namespace {

void set(int fd, int level, int name, int value) noexcept {
  (void)::setsockopt(fd, level, name, &value, sizeof value);
}

}  // namespace

void tune_tcp(int fd, std::chrono::seconds idle) noexcept {
  set(fd, IPPROTO_TCP, TCP_NODELAY, 1);
  set(fd, SOL_SOCKET, SO_KEEPALIVE, 1);
  if (idle.count() <= 0) return;
  constexpr int probes = 4;
  const int seconds = static_cast<int>(std::min<std::chrono::seconds::rep>(idle.count(), 86400));
  const int interval = std::max(1, seconds / probes);
  set(fd, IPPROTO_TCP, TCP_KEEPIDLE, seconds);
  set(fd, IPPROTO_TCP, TCP_KEEPINTVL, interval);
  set(fd, IPPROTO_TCP, TCP_KEEPCNT, probes);
  set(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, (seconds + interval * probes) * 1000);
}

std::optional<std::uint64_t> tcp_bytes_acked(int fd) noexcept {
  tcp_info info{};
  socklen_t length = sizeof info;
  if (::getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &length) != 0) return std::nullopt;
  if (length < offsetof(tcp_info, tcpi_bytes_acked) + sizeof info.tcpi_bytes_acked) return std::nullopt;
  return info.tcpi_bytes_acked;
}

}  // namespace ipc
