// websocketd's static files (--static-dir): whatever a request target says, a path it accepts is
// a regular file inside the directory. The directory is made once, with a file, a subdirectory
// and symbolic links pointing in and out.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <variant>

#include "check.hpp"
#include "static_path.hpp"

namespace {

std::filesystem::path make_root() {
  const auto base = std::filesystem::temp_directory_path() / ("ipc-fuzz-static-" + std::to_string(::getpid()));
  std::filesystem::create_directories(base / "www/sub");
  std::ofstream(base / "secret.txt") << "outside";
  std::ofstream(base / "www/index.html") << "<title>in</title>";
  std::ofstream(base / "www/sub/a.js") << "1";
  std::error_code ignored;
  std::filesystem::create_symlink(base / "secret.txt", base / "www/out.txt", ignored);
  std::filesystem::create_symlink(base / "www/sub/a.js", base / "www/in.js", ignored);
  std::filesystem::create_directory_symlink(base, base / "www/up", ignored);
  return std::filesystem::canonical(base / "www");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::filesystem::path root = make_root();
  const std::string_view target(reinterpret_cast<const char*>(data), size);
  const auto result = websocketd::resolve_static_path(root, target);
  if (const auto* path = std::get_if<std::filesystem::path>(&result)) {
    const std::string inside = path->string();
    FUZZ_CHECK(inside.rfind(root.string() + "/", 0) == 0);
    FUZZ_CHECK(std::filesystem::is_regular_file(*path));
    FUZZ_CHECK(std::filesystem::canonical(*path) == *path);
  }
  return 0;
}
