// The static file server (see static_files.hpp).
#include "static_files.hpp"

#include <ipc/log.hpp>

#include "static_path.hpp"

namespace websocketd {

http::response<http::string_body> text_response(const Request& request, http::status status, std::string body) {
  http::response<http::string_body> response{status, request.version()};
  response.set(http::field::server, "websocketd (ipc)");
  response.set(http::field::content_type, "text/plain; charset=utf-8");
  response.set(http::field::cache_control, "no-store");
  response.keep_alive(request.keep_alive());
  response.body() = std::move(body) + "\n";
  response.prepare_payload();
  return response;
}

http::message_generator serve_static(const std::filesystem::path& root, const Request& request) {
  if (request.method() != http::verb::get && request.method() != http::verb::head) {
    auto response = text_response(request, http::status::method_not_allowed, "only GET and HEAD are served");
    response.set(http::field::allow, "GET, HEAD");
    return response;
  }
  if (root.empty()) return text_response(request, http::status::not_found, "not found (no --static-dir)");

  const auto resolved = resolve_static_path(root, request.target());
  if (const auto* refusal = std::get_if<PathRefusal>(&resolved)) {
    switch (*refusal) {
      case PathRefusal::malformed: return text_response(request, http::status::bad_request, "malformed path");
      case PathRefusal::forbidden:
        ipc::log_info("static: refused ", std::string_view(request.target()), " (outside the directory)");
        return text_response(request, http::status::forbidden, "forbidden");
      case PathRefusal::not_found: break;
    }
    return text_response(request, http::status::not_found, "not found");
  }
  const auto& file = std::get<std::filesystem::path>(resolved);

  http::file_body::value_type body;
  beast::error_code ec;
  body.open(file.c_str(), beast::file_mode::scan, ec);
  if (ec) return text_response(request, http::status::not_found, "not found");
  const auto size = body.size();
  const auto type = content_type_for(file);
  if (request.method() == http::verb::head) {
    http::response<http::empty_body> response{http::status::ok, request.version()};
    response.set(http::field::server, "websocketd (ipc)");
    response.set(http::field::content_type, type);
    response.set("X-Content-Type-Options", "nosniff");
    response.content_length(size);
    response.keep_alive(request.keep_alive());
    return response;
  }
  http::response<http::file_body> response{std::piecewise_construct, std::make_tuple(std::move(body)),
                                           std::make_tuple(http::status::ok, request.version())};
  response.set(http::field::server, "websocketd (ipc)");
  response.set(http::field::content_type, type);
  response.set("X-Content-Type-Options", "nosniff");
  response.content_length(size);
  response.keep_alive(request.keep_alive());
  return response;
}

}  // namespace websocketd
