// Static file paths (see static_path.hpp).
#include "static_path.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <string>
#include <system_error>
#include <utility>

namespace websocketd {
namespace {

int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool is_inside(const std::filesystem::path& root, const std::filesystem::path& path) {
  auto r = root.begin();
  auto p = path.begin();
  for (; r != root.end(); ++r, ++p) {
    if (r->empty()) continue;  // a trailing separator in root
    if (p == path.end() || *r != *p) return false;
  }
  return true;
}

}  // namespace

std::variant<std::filesystem::path, PathRefusal> resolve_static_path(const std::filesystem::path& root,
                                                                     std::string_view target) {
  target = target.substr(0, target.find_first_of("?#"));
  if (target.empty() || target.front() != '/') return PathRefusal::malformed;

  // Decode first, then look at the segments: "%2e%2e" and "%2f" must not slip past the check.
  std::string decoded;
  decoded.reserve(target.size());
  for (std::size_t i = 0; i < target.size(); ++i) {
    char c = target[i];
    if (c == '%') {
      if (i + 2 >= target.size()) return PathRefusal::malformed;
      const int hi = hex_value(target[i + 1]), lo = hex_value(target[i + 2]);
      if (hi < 0 || lo < 0) return PathRefusal::malformed;
      c = static_cast<char>(hi * 16 + lo);
      i += 2;
    }
    if (c == '\0') return PathRefusal::malformed;
    decoded.push_back(c);
  }

  std::filesystem::path relative;
  std::size_t start = 1;
  while (start <= decoded.size()) {
    const auto end = std::min(decoded.find('/', start), decoded.size());
    const std::string_view segment(decoded.data() + start, end - start);
    if (segment == "..") return PathRefusal::forbidden;
    if (!segment.empty() && segment != ".") relative /= std::string(segment);
    start = end + 1;
  }
  if (decoded.back() == '/' || relative.empty()) relative /= "index.html";

  // The file as the kernel would open it, symbolic links followed: it must still be inside.
  std::error_code ec;
  const auto real = std::filesystem::canonical(root / relative, ec);
  if (ec) return PathRefusal::not_found;
  if (!is_inside(root, real)) return PathRefusal::forbidden;
  if (std::filesystem::is_directory(real, ec)) {
    const auto index = std::filesystem::canonical(real / "index.html", ec);
    if (ec) return PathRefusal::not_found;
    if (!is_inside(root, index)) return PathRefusal::forbidden;
    if (!std::filesystem::is_regular_file(index, ec)) return PathRefusal::not_found;
    return index;
  }
  if (!std::filesystem::is_regular_file(real, ec)) return PathRefusal::not_found;
  return real;
}

std::string_view content_type_for(const std::filesystem::path& file) noexcept {
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 18> types{{
      {".html", "text/html; charset=utf-8"},
      {".htm", "text/html; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"},
      {".json", "application/json"},
      {".txt", "text/plain; charset=utf-8"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".jpg", "image/jpeg"},
      {".jpeg", "image/jpeg"},
      {".gif", "image/gif"},
      {".webp", "image/webp"},
      {".ico", "image/vnd.microsoft.icon"},
      {".wasm", "application/wasm"},
      {".woff2", "font/woff2"},
      {".xml", "application/xml"},
      {".pdf", "application/pdf"},
  }};
  std::string ext = file.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  for (const auto& [suffix, type] : types)
    if (ext == suffix) return type;
  return "application/octet-stream";
}

}  // namespace websocketd
