// TCP_INFO's acknowledged bytes (see tcp_progress.hpp). This file includes the kernel's
// <linux/tcp.h> and nothing that includes glibc's <netinet/tcp.h>: both define struct tcp_info,
// and glibc's copy ends before tcpi_bytes_acked.
#include "ipc/tcp_progress.hpp"

#include <linux/tcp.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstddef>

namespace ipc {

std::optional<std::uint64_t> tcp_bytes_acked(int fd) noexcept {
  tcp_info info{};
  socklen_t length = sizeof info;
  if (::getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &length) != 0) return std::nullopt;
  if (length < offsetof(tcp_info, tcpi_bytes_acked) + sizeof info.tcpi_bytes_acked) return std::nullopt;
  return info.tcpi_bytes_acked;
}

}  // namespace ipc
