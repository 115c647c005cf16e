// sd_notify and sd_listen_fds, without libsystemd (see sd_notify(3), sd_listen_fds(3)).
#include "ipc/systemd.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "ipc/log.hpp"

namespace ipc::systemd {

bool notify(std::string_view state) {
  const char* path = std::getenv("NOTIFY_SOCKET");
  if (path == nullptr || *path == '\0') return false;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  const std::size_t len = std::strlen(path);
  if (len >= sizeof addr.sun_path || (path[0] != '/' && path[0] != '@')) {
    log_warn("NOTIFY_SOCKET is not a usable socket path: ", path);
    return false;
  }
  std::memcpy(addr.sun_path, path, len);
  if (path[0] == '@') addr.sun_path[0] = '\0';  // abstract namespace
  UniqueFd fd(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!fd) return false;
  const auto addr_len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + len);
  const ssize_t n = ::sendto(fd.get(), state.data(), state.size(), MSG_NOSIGNAL,
                             reinterpret_cast<const sockaddr*>(&addr), addr_len);
  if (n < 0) {
    log_warn("sd_notify to ", path, " failed: ", std::strerror(errno));
    return false;
  }
  return true;
}

std::vector<ListenFd> take_listen_fds() {
  std::vector<ListenFd> out;
  const char* pid = std::getenv("LISTEN_PID");
  const char* fds = std::getenv("LISTEN_FDS");
  const char* names = std::getenv("LISTEN_FDNAMES");
  if (pid != nullptr && fds != nullptr && std::strtol(pid, nullptr, 10) == ::getpid()) {
    const long count = std::strtol(fds, nullptr, 10);
    std::string name_list = names != nullptr ? names : "";
    constexpr int first = 3;  // SD_LISTEN_FDS_START
    for (long i = 0; i < count && i < 1024; ++i) {
      const int fd = first + static_cast<int>(i);
      ::fcntl(fd, F_SETFD, FD_CLOEXEC);
      std::string name;
      const auto colon = name_list.find(':');
      name = name_list.substr(0, colon);
      name_list = colon == std::string::npos ? "" : name_list.substr(colon + 1);
      out.push_back({UniqueFd(fd), name});
    }
  }
  ::unsetenv("LISTEN_PID");
  ::unsetenv("LISTEN_FDS");
  ::unsetenv("LISTEN_FDNAMES");
  return out;
}

}  // namespace ipc::systemd
