// IPC_NETWORK (DESIGN §4), from a client's environment: what parses is routes whose URIs print
// in canonical forms, and the routes written out that way parse to the same routes.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <ipc/error.hpp>
#include <ipc/network.hpp>

#include "check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  std::optional<ipc::NetworkRoutes> routes;
  try {
    routes.emplace(ipc::NetworkRoutes::parse(text));
  } catch (const ipc::Error&) {
    return 0;
  }
  std::string written;
  for (const auto& route : routes->routes()) {
    FUZZ_CHECK(routes->find(route.service) != nullptr && *routes->find(route.service) == route.uri);
    written += route.service.str() + " " + route.uri.str_with_secrets() + ";";
  }
  const auto again = ipc::NetworkRoutes::parse(written);
  FUZZ_CHECK(again.routes().size() == routes->routes().size());
  for (std::size_t i = 0; i < again.routes().size(); ++i) {
    FUZZ_CHECK(again.routes()[i].service.str() == routes->routes()[i].service.str());
    FUZZ_CHECK(again.routes()[i].uri == routes->routes()[i].uri);
  }
  return 0;
}
