// The run directory (DESIGN §2).
#include "ipc/rundir.hpp"

#include <cstdlib>

namespace ipc {

std::filesystem::path default_rundir() {
  const char* env = std::getenv("IPC_RUNDIR");
  if (env != nullptr && *env != '\0') return env;
  return system_rundir;
}

}  // namespace ipc
