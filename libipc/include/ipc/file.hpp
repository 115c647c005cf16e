// Reading the small files an operator gives a daemon (config, users, keys): never blocking on them.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>

namespace ipc {

// The largest config file any daemon reads (a bound, so that a wrong path cannot fill memory).
inline constexpr std::size_t max_config_file_bytes = 16 * 1024 * 1024;

// The whole of `path`, which must be a regular file of at most `max_bytes`. It is opened
// O_NONBLOCK and checked with fstat before any read, so a FIFO, a device or a directory put
// where a file belongs is refused at once instead of stalling the daemon (on a reload, its event
// loop). Throws std::runtime_error with the reason alone ("No such file or directory", "not a
// regular file (a FIFO)", "larger than 16777216 bytes"); callers add the path.
[[nodiscard]] std::string read_regular_file(const std::filesystem::path& path, std::size_t max_bytes);

// As read_regular_file, for a file of secrets (pre-shared keys): refused as well when its group
// or others have any permission on it, as ssh refuses such a private key, checked on the opened
// file ("permissions 0640 are too open: ...").
[[nodiscard]] std::string read_secret_file(const std::filesystem::path& path, std::size_t max_bytes);

}  // namespace ipc
