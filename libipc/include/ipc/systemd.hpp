// The two pieces of the systemd protocol a daemon needs, written directly (no libsystemd):
// readiness notification (sd_notify, $NOTIFY_SOCKET) and inherited sockets (sd_listen_fds,
// $LISTEN_PID/$LISTEN_FDS/$LISTEN_FDNAMES).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "ipc/fd.hpp"

namespace ipc::systemd {

// Sends `state` (e.g. "READY=1", "STOPPING=1") to $NOTIFY_SOCKET when it is set.
// Returns false when not under systemd or on failure (logged at debug).
bool notify(std::string_view state);

struct ListenFd {
  UniqueFd fd;
  std::string name;  // from LISTEN_FDNAMES, "" when not given
};

// Takes the sockets systemd passed to this process (fds from 3), when LISTEN_PID is ours.
// Clears the variables so children do not see them. Each fd is made close-on-exec.
[[nodiscard]] std::vector<ListenFd> take_listen_fds();

}  // namespace ipc::systemd
