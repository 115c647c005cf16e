// Where a request for a static file leads (--static-dir), as a pure function so it can be
// tested without a server: percent-decoding, the query string, index.html, and every way out
// of the directory refused — `..` segments (also percent-encoded), NUL bytes, and symbolic
// links whose target lies outside the directory.
#pragma once

#include <filesystem>
#include <string_view>
#include <variant>

namespace websocketd {

enum class PathRefusal {
  malformed,  // bad percent-encoding, NUL, not starting with '/': HTTP 400
  forbidden,  // tries to leave the directory: HTTP 403
  not_found,  // no such regular file: HTTP 404
};

// Resolves the request target against `root` (which should be canonical). Returns the canonical
// path of a regular file inside root, or why not.
[[nodiscard]] std::variant<std::filesystem::path, PathRefusal> resolve_static_path(const std::filesystem::path& root,
                                                                                   std::string_view target);

// "text/html; charset=utf-8", "application/javascript", ...; "application/octet-stream" otherwise.
[[nodiscard]] std::string_view content_type_for(const std::filesystem::path& file) noexcept;

}  // namespace websocketd
