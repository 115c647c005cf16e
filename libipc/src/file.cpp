// read_regular_file and read_secret_file (see file.hpp).
#include "ipc/file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdio>
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

std::string read_file(const std::filesystem::path& path, std::size_t max_bytes, bool secret) {
  const UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY));
  if (!fd) throw std::runtime_error(std::strerror(errno));
  struct stat st{};
  if (::fstat(fd.get(), &st) != 0) throw std::runtime_error(std::strerror(errno));
  if (!S_ISREG(st.st_mode)) throw std::runtime_error(std::string("not a regular file (") + kind(st.st_mode) + ")");
  if (secret && (st.st_mode & 077) != 0) {
    std::array<char, 8> mode{};
    std::snprintf(mode.data(), mode.size(), "%04o", static_cast<unsigned>(st.st_mode & 07777));
    throw std::runtime_error(std::string("permissions ") + mode.data() +
                             " are too open: its group and others must have none (chmod 600)");
  }
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

}  // namespace

std::string read_regular_file(const std::filesystem::path& path, std::size_t max_bytes) {
  return read_file(path, max_bytes, false);
}

std::string read_secret_file(const std::filesystem::path& path, std::size_t max_bytes) {
  return read_file(path, max_bytes, true);
}

}  // namespace ipc
