// The run directory (DESIGN §2): every service NAME listens on RUNDIR/NAME.
// RUNDIR is --rundir, else $IPC_RUNDIR, else /run/ipc.
#pragma once

#include <filesystem>

#include "ipc/service_name.hpp"

namespace ipc {

inline constexpr const char* system_rundir = "/run/ipc";

// $IPC_RUNDIR when set and not empty, else /run/ipc.
[[nodiscard]] std::filesystem::path default_rundir();

// The socket path of a service.
[[nodiscard]] inline std::filesystem::path socket_path(const std::filesystem::path& rundir,
                                                       const ServiceName& name) {
  return rundir / name.str();
}

}  // namespace ipc
