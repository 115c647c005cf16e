// Broker: ipcd's job. Answers LOOKUP from clients (DESIGN §5), INBOUND from protocol daemons
// (§8) and STATUS requests (ipcctl), with the policy (rules, redirections, routes) in force.
// It opens the connection (a local service, or a protocol daemon via CONNECT, §6), passes its
// fd to the asker and steps out of the data path.
#pragma once

#include <chrono>
#include <filesystem>
#include <ipc/asio.hpp>
#include <ipc/connection.hpp>
#include <ipc/fd.hpp>
#include <ipc/trust.hpp>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "held.hpp"
#include "policy.hpp"

namespace ipcd {

// Where the policy comes from: the command line and, optionally, the config file. On reload
// the file is read again and taken with the same command-line part.
struct PolicySource {
  PolicyLayer command_line;
  std::optional<std::filesystem::path> config_file;
};

// The policy in force: the command line's rules first (so they win), then the file's; redirects,
// routes and defaults from the command line where it states them, else from the file. Throws
// ConfigError (file errors).
[[nodiscard]] Config build_config(const PolicySource& source);

struct BrokerSettings {
  std::filesystem::path rundir;
  std::chrono::milliseconds timeout{10000};  // every step of a request
  bool timeout_from_command_line = false;
  // Who may send INBOUND and reload (--trust-inbound): root and the protocol daemons' users,
  // never a service's user, so that no service can claim to be a remote peer.
  // Set by main() (ipc::trusted_users_flag); empty trusts nobody.
  ipc::TrustedUsers inbound_trust;
  // Connections one uid may hold at once in one local service, or in one protocol daemon's
  // relays, through its lookups (--max-held; 0: no limit). The trusted users are not counted.
  std::size_t max_held = 0;
};

// What a lookup would do, before doing it (also what `ipcctl lookup` shows).
struct Plan {
  ipc::ServiceName requested;
  std::vector<std::string> hops;  // redirections passed through
  ipc::Uri destination;           // a local service (unix) or a remote URI
  std::string route;              // "client IPC_NETWORK", "static route", "redirect", "local"
  Decision decision;
};

class Broker {
 public:
  Broker(BrokerSettings settings, PolicySource source, Config config);

  // Handlers for the two sockets.
  ipc::asio::awaitable<void> serve(ipc::Connection& client);         // RUNDIR/ipc
  ipc::asio::awaitable<void> serve_legacy(ipc::Connection& client);  // RUNDIR/network (C libipc 0.7)

  // Re-reads the config file; on error keeps the current policy and returns why.
  [[nodiscard]] std::optional<std::string> reload();

  // LOOKUP "SERVICE;ROUTES" -> plan. Throws ipc::Error (bad-request, loop).
  [[nodiscard]] Plan plan_lookup(std::string_view payload, const ClientCredentials& client) const;

  // What `ipcctl status` shows `asker`: the counts of --max-held only of its own uid, unless it
  // is trusted (root, the protocol daemons).
  [[nodiscard]] nlohmann::json status(const ClientCredentials& asker) const;

 private:
  using Clock = std::chrono::steady_clock;

  // Each gives the fd for the client blocking, as a freshly connected socket is (DESIGN §15).
  // A lookup's connection comes with its place in the client's count (--max-held), to keep
  // once the fd is passed on.
  struct Looked {
    ipc::UniqueFd fd;
    HeldConnections::Claim held;
  };
  ipc::asio::awaitable<Looked> open_lookup(const std::string& payload, const ClientCredentials& client,
                                           Clock::time_point deadline);
  // INBOUND's connection: to the service's adoption socket (`adoption` true) when the daemon
  // can adopt and the service has one, else to the service.
  struct Opened {
    ipc::UniqueFd fd;
    bool adoption = false;
  };
  ipc::asio::awaitable<Opened> open_inbound(const std::string& payload, const ClientCredentials& client,
                                            Clock::time_point deadline);
  // A connection to SERVICE@adopt; invalid when there is none to use (no socket, nobody
  // answering, or a file of another owner than SERVICE's: never a squatter's).
  ipc::asio::awaitable<ipc::UniqueFd> connect_adoption(const ipc::ServiceName& service, Clock::time_point deadline);
  ipc::asio::awaitable<ipc::UniqueFd> connect_local(const ipc::ServiceName& service, Clock::time_point deadline);
  ipc::asio::awaitable<ipc::UniqueFd> delegate(const Plan& plan, const ClientCredentials& client,
                                               Clock::time_point deadline);
  // Which of the addresses the destination's host resolved to the out rules let the client
  // reach; none throws ipc::Error(denied) with the rule.
  [[nodiscard]] std::vector<std::string> allowed_addresses(const Plan& plan, const ClientCredentials& client,
                                                           const std::vector<std::string>& addresses) const;
  ipc::asio::awaitable<void> answer_command(ipc::Connection& client, const ipc::Message& request);
  void count_lookup(std::string_view result) { ++lookups_[std::string(result)]; }
  [[nodiscard]] bool trusted(const ClientCredentials& client) const noexcept;

  BrokerSettings settings_;
  PolicySource source_;
  Config config_;
  Clock::time_point started_ = Clock::now();
  std::map<std::string, std::uint64_t> lookups_;      // by result: "ok", "denied", ...
  std::map<std::string, std::uint64_t> inbound_;      // "allowed", "denied", ...
  std::map<std::string, std::uint64_t> delegations_;  // by scheme
  // Connections opened, by direction ("out", "in"), scheme and path: "handed_over" (the socket
  // itself went to the client or service, DESIGN §15) or "relayed" (a protocol daemon stays in
  // the data path).
  std::map<std::string, std::map<std::string, std::map<std::string, std::uint64_t>>> paths_;
  std::uint64_t reloads_ = 0;
  HeldConnections held_;
};

}  // namespace ipcd
