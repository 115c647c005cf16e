// The listening socket of a service at RUNDIR/NAME (DESIGN §2).
//
// A socket file nobody answers on (left by a crash) is replaced; a live one means another
// process already serves the name, and we refuse to start rather than steal it. A path that
// exists but is not a socket is never deleted.
#pragma once

#include <filesystem>
#include <utility>

#include "ipc/fd.hpp"
#include "ipc/service_name.hpp"

namespace ipc {

class ListeningSocket {
 public:
  ListeningSocket() = default;
  // Binds RUNDIR/NAME (creating RUNDIR when missing), mode 0666: every local user may connect,
  // and the rules, not file modes, decide who gets what. Throws std::runtime_error saying why.
  static ListeningSocket bind(const std::filesystem::path& rundir, const ServiceName& name, int backlog = 1024);
  // The same for a socket file in RUNDIR that is not a service's (RUNDIR/NAME@adopt).
  static ListeningSocket bind_file(const std::filesystem::path& rundir, const std::filesystem::path& path,
                                   int backlog = 1024);
  // A socket inherited from systemd (not removed on close: systemd owns the file).
  static ListeningSocket adopt(UniqueFd fd, std::filesystem::path path);

  ListeningSocket(ListeningSocket&& other) noexcept
      : fd_(std::move(other.fd_)), path_(std::move(other.path_)), owns_file_(std::exchange(other.owns_file_, false)) {}
  ListeningSocket& operator=(ListeningSocket&&) noexcept;
  ~ListeningSocket();

  [[nodiscard]] int fd() const noexcept { return fd_.get(); }
  [[nodiscard]] int release_fd() noexcept { return fd_.release(); }
  [[nodiscard]] const std::filesystem::path& path() const noexcept { return path_; }
  // Removes the socket file (when we created it). Idempotent.
  void remove_file() noexcept;

 private:
  UniqueFd fd_;
  std::filesystem::path path_;
  bool owns_file_ = false;
};

}  // namespace ipc
