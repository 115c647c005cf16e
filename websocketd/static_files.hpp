// The static file server (--static-dir): GET and HEAD of files under one directory, with their
// content types; everything else is 404/403/400/405. Paths are resolved by static_path.hpp.
#pragma once

#include <filesystem>

#include "beast.hpp"

namespace websocketd {

using Request = http::request<http::string_body>;

// The whole answer for `request`. `root` is empty when no --static-dir was given (then 404).
[[nodiscard]] http::message_generator serve_static(const std::filesystem::path& root, const Request& request);

// A short plain-text answer (errors and refusals).
[[nodiscard]] http::response<http::string_body> text_response(const Request& request, http::status status,
                                                              std::string body);

}  // namespace websocketd
