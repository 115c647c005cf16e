// read_regular_file (see file.hpp).
#include "ipc/file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "ipc/fd.hpp"

namespace ipc {
namespace {

const char* kind(mode_t mode) {
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a file";
}

}  // namespace

std::string read_regular_file(const std::filesystem::path& path, std::size_t max_bytes) {
  const UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY));
  if (!fd) throw std::runtime_error(std::strerror(errno));
  struct stat st{};
  if (::fstat(fd.get(), &st) != 0) throw std::runtime_error(std::strerror(errno));
  if (!S_ISREG(st.st_mode)) throw std::runtime_error(std::string("not a regular file (") + kind(st.st_mode) + ")");
  if (static_cast<std::size_t>(st.st_size) > max_bytes)
    throw std::runtime_error("larger than " + std::to_string(max_bytes) + " bytes");
  std::string text;
  for (std::array<char, 8192> buffer{};;) {
    const ssize_t n = ::read(fd.get(), buffer.data(), buffer.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw std::runtime_error(std::strerror(errno));
    if (n == 0) break;
    // (The file may grow between fstat and read.)
    if (text.size() + static_cast<std::size_t>(n) > max_bytes)
      throw std::runtime_error("larger than " + std::to_string(max_bytes) + " bytes");
    text.append(buffer.data(), static_cast<std::size_t>(n));
  }
  return text;
}

}  // namespace ipc
