// IPC_NETWORK (DESIGN §4): the routes a client carries in its environment.
//
//   IPC_NETWORK="pong tcp://example.com:9000/pong ;audio ws://media.example.com/audio"
//
// Entries are separated by ';', each is "SERVICE URI"; white space around either is ignored and
// empty entries are skipped. A service named twice is an error.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "ipc/uri.hpp"

namespace ipc {

struct Route {
  ServiceName service;
  Uri uri;
};

class NetworkRoutes {
 public:
  NetworkRoutes() = default;
  // Throws ipc::Error(bad_request) naming the entry at fault.
  [[nodiscard]] static NetworkRoutes parse(std::string_view text);
  // Parses $IPC_NETWORK (empty when unset).
  [[nodiscard]] static NetworkRoutes from_environment();

  [[nodiscard]] const Uri* find(const ServiceName& service) const noexcept;
  [[nodiscard]] const std::vector<Route>& routes() const noexcept { return routes_; }
  [[nodiscard]] bool empty() const noexcept { return routes_.empty(); }

 private:
  std::vector<Route> routes_;
};

}  // namespace ipc
