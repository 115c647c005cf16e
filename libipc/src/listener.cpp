// Binding RUNDIR/NAME safely: stale files replaced, live duplicates refused.
#include "ipc/listener.hpp"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "ipc/log.hpp"
#include "ipc/rundir.hpp"

namespace ipc {
namespace {

sockaddr_un make_address(const std::filesystem::path& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  const std::string& s = path.native();
  if (s.size() >= sizeof addr.sun_path)
    throw std::runtime_error("socket path " + s + " is too long (at most " +
                             std::to_string(sizeof addr.sun_path - 1) + " bytes)");
  std::memcpy(addr.sun_path, s.c_str(), s.size() + 1);
  return addr;
}

[[noreturn]] void fail(const std::string& what, const std::filesystem::path& path) {
  throw std::runtime_error(what + " " + path.string() + ": " + std::strerror(errno));
}

}  // namespace

ListeningSocket ListeningSocket::bind(const std::filesystem::path& rundir, const ServiceName& name, int backlog) {
  return bind_file(rundir, socket_path(rundir, name), backlog);
}

ListeningSocket ListeningSocket::bind_file(const std::filesystem::path& rundir, const std::filesystem::path& path,
                                           int backlog) {
  std::error_code ec;
  std::filesystem::create_directories(rundir, ec);
  if (ec) throw std::runtime_error("cannot create run directory " + rundir.string() + ": " + ec.message());

  const sockaddr_un addr = make_address(path);
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd) fail("cannot create a socket for", path);

  struct stat st{};
  if (::lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode))
      throw std::runtime_error(path.string() + " exists and is not a socket; refusing to replace it");
    // Is somebody answering on it? The probe is non-blocking: a blocking connect() to a live
    // service whose backlog is full waits for a free slot, possibly forever. EAGAIN (backlog
    // full) means somebody listens there just as much as a connect that succeeds.
    UniqueFd probe(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    if (!probe) fail("cannot create a socket to probe", path);
    if (::connect(probe.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0 || errno == EAGAIN)
      throw std::runtime_error("another process already answers on " + path.string() + "; not starting");
    if (errno != ECONNREFUSED && errno != ENOENT) fail("cannot probe", path);
    log_info("removing stale socket ", path.string());
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) fail("cannot remove stale socket", path);
  }

  if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    if (errno == EADDRINUSE)
      throw std::runtime_error("another process took " + path.string() + " while we started; not starting");
    fail("cannot bind", path);
  }
  ListeningSocket out;
  out.fd_ = std::move(fd);
  out.path_ = path;
  out.owns_file_ = true;
  if (::chmod(path.c_str(), 0666) != 0) fail("cannot set the mode of", path);
  if (::listen(out.fd_.get(), backlog) != 0) fail("cannot listen on", path);
  return out;
}

ListeningSocket ListeningSocket::adopt(UniqueFd fd, std::filesystem::path path) {
  ListeningSocket out;
  out.fd_ = std::move(fd);
  out.path_ = std::move(path);
  out.owns_file_ = false;
  return out;
}

ListeningSocket& ListeningSocket::operator=(ListeningSocket&& other) noexcept {
  if (this != &other) {
    remove_file();
    fd_ = std::move(other.fd_);
    path_ = std::move(other.path_);
    owns_file_ = std::exchange(other.owns_file_, false);
  }
  return *this;
}

ListeningSocket::~ListeningSocket() { remove_file(); }

void ListeningSocket::remove_file() noexcept {
  if (owns_file_) {
    ::unlink(path_.c_str());
    owns_file_ = false;
  }
}

}  // namespace ipc
