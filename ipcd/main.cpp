// ipcd: the broker. Parses flags, builds the policy, serves RUNDIR/ipc and RUNDIR/network.
#include <filesystem>
#include <ipc/broker.hpp>
#include <ipc/command_line.hpp>
#include <ipc/log.hpp>
#include <ipc/service.hpp>

#include "broker.hpp"

namespace {

constexpr const char* default_config = "/etc/ipc/ipcd.json";

// --allow/--deny/--redirect/--route (in the order given) and --default-in/--default-out.
ipcd::PolicyLayer policy_flags(const ipc::CommandLine& command_line, const ipc::po::variables_map& flags) {
  ipcd::PolicyLayer out;
  auto words = [&](const ipc::po::option& option, std::size_t count) {
    if (option.value.size() != count)
      command_line.fail("--" + option.string_key + " takes " + std::to_string(count) + " arguments, got " +
                        std::to_string(option.value.size()));
    return option.value;
  };
  for (const auto& option : command_line.ordered()) {
    const auto& key = option.string_key;
    try {
      if (key == "allow" || key == "deny") {
        const auto w = words(option, 3);
        out.rules.push_back(ipcd::Rule::parse(key, w[0], w[1], w[2]));
      } else if (key == "redirect") {
        const auto w = words(option, 2);
        out.add_redirect(w[0], w[1]);
      } else if (key == "route") {
        const auto w = words(option, 2);
        out.add_route(w[0], w[1]);
      }
    } catch (const ipc::Error& e) {
      command_line.fail("--" + key + ": " + e.text());
    }
  }
  for (const auto direction : {ipcd::Direction::in, ipcd::Direction::out}) {
    const std::string flag = "default-" + std::string(ipcd::to_string(direction));
    if (!flags.count(flag)) continue;
    const auto value = flags[flag].as<std::string>();
    if (value != "allow" && value != "deny") command_line.fail("--" + flag + " must be allow or deny, not '" + value + "'");
    (direction == ipcd::Direction::in ? out.default_in : out.default_out) =
        value == "allow" ? ipcd::Action::allow : ipcd::Action::deny;
  }
  return out;
}

}  // namespace

int main(int argc, char* argv[]) {
  // 1. Flags.
  ipc::CommandLine command_line(
      "ipcd", "[OPTIONS]",
      "The broker: finds where a service is (locally or through a protocol daemon), applies the\n"
      "firewall rules, redirections and routes, and hands the client the connection's fd.\n"
      "Listens on RUNDIR/ipc and, for clients of the original C libipc, RUNDIR/network.");
  command_line.options().add_options()
      ("allow", ipc::po::value<std::vector<std::string>>()->multitoken()->composing()->value_name("DIR SERVICE PEER"),
       "allow rule (repeatable; rules apply in the order given, first match wins; an out rule on the\n"
       "service a lookup leads to also denies the names that lead there)")
      ("deny", ipc::po::value<std::vector<std::string>>()->multitoken()->composing()->value_name("DIR SERVICE PEER"),
       "deny rule (repeatable)")
      ("redirect", ipc::po::value<std::vector<std::string>>()->multitoken()->composing()->value_name("SERVICE TARGET"),
       "send requests for SERVICE to TARGET, a service name or a URI (repeatable)")
      ("route", ipc::po::value<std::vector<std::string>>()->multitoken()->composing()->value_name("SERVICE URI"),
       "reach SERVICE at URI when the client's IPC_NETWORK does not say (repeatable)")
      ("default-in", ipc::po::value<std::string>()->value_name("allow|deny"),
       "what happens to inbound requests no rule matches (default deny)")
      ("default-out", ipc::po::value<std::string>()->value_name("allow|deny"),
       "what happens to lookups no rule matches (default allow)")
      ("timeout", ipc::po::value<double>()->value_name("SECONDS"), "deadline for every step of a request (default 10)")
      ("config", ipc::po::value<std::string>()->value_name("FILE"),
       "JSON config file (default /etc/ipc/ipcd.json when it exists; // and /* */ comments allowed); SIGHUP or "
       "`ipcctl reload` re-reads it")
      ("max-connections", ipc::po::value<std::size_t>()->value_name("N")->default_value(4096),
       "requests served at once; more wait in the backlog")
      ("max-per-peer", ipc::po::value<std::size_t>()->value_name("N")->default_value(0),
       "requests one uid may have in progress at once (0: no limit); one more gets ERROR unavailable. Root "
       "and the --trust-inbound users, which ask for many remote peers, are not counted")
      ("max-held", ipc::po::value<std::size_t>()->value_name("N")->default_value(0),
       "connections one uid may hold at once in one local service, or in one protocol daemon's relays, "
       "made through its lookups (0: no limit); one more gets ERROR unavailable. Root and the "
       "--trust-inbound users are not counted; remote connections handed over are not either")
      ("trust-inbound", ipc::po::value<std::vector<std::string>>()->value_name("USER")->composing(),
       "a protocol daemon's user, whose INBOUND requests (remote peers) and reloads are taken; root always is "
       "(repeatable; default: the users ipc-tcpd, ipc-websocketd, ipc-udpd where they exist, and ipcd's own user)");
  command_line.set_epilog(
      "PEER is *, SCHEME:HOST[:PORT] (globs, CIDR blocks), uid:N, user:NAME, group:NAME (out rules)\n"
      "or id:NAME (in rules). Example:\n"
      "  ipcd --allow in pong tcp:127.0.0.1 --deny out '*' 'tcp:*.example.org' \\\n"
      "       --redirect authd nextversion-authd --route pong tcp://pong.example.com:9000/pong\n");
  ipc::add_session_flags(command_line);
  const auto flags = command_line.parse(argc, argv);

  // 2. Configuration.
  ipcd::PolicySource source;
  source.command_line = policy_flags(command_line, flags);
  if (flags.count("config")) {
    source.config_file = flags["config"].as<std::string>();
  } else if (std::filesystem::exists(default_config)) {
    source.config_file = default_config;
  }
  ipcd::BrokerSettings settings;
  settings.rundir = command_line.common().rundir;
  settings.inbound_trust = ipc::trusted_users_flag(command_line, flags, "trust-inbound", ipc::protocol_daemon_users);
  settings.max_held = flags["max-held"].as<std::size_t>();
  if (flags.count("timeout")) {
    settings.timeout = ipc::seconds_flag(command_line, flags, "timeout");
    settings.timeout_from_command_line = true;
  }
  ipcd::Config config;
  try {
    config = ipcd::build_config(source);
  } catch (const std::exception& e) {
    command_line.fail(e.what());
  }
  ipc::ServiceOptions options;
  options.limits.max_payload = ipc::max_request_payload;
  options.max_connections = flags["max-connections"].as<std::size_t>();
  if (options.max_connections == 0) command_line.fail("--max-connections must be at least 1");
  options.max_per_peer = flags["max-per-peer"].as<std::size_t>();
  options.per_peer_exempt = settings.inbound_trust.uids();
  const ipc::SessionFlags session = ipc::session_flags(command_line, flags);
  options.drain = session.drain;
  options.limits.write_timeout = session.write_timeout;

  // 3. The server objects, 4. run.
  try {
    ipc::asio::io_context io;
    ipcd::Broker broker(settings, source, std::move(config));
    ipc::Service service(io, settings.rundir, options);
    service.listen(ipc::ServiceName(ipc::broker_socket),
                   [&broker](ipc::Connection& c) { return broker.serve(c); });
    service.listen(ipc::ServiceName(ipc::legacy_broker_socket),
                   [&broker](ipc::Connection& c) { return broker.serve_legacy(c); });
    service.on_reload([&broker] { (void)broker.reload(); });
    return service.run();
  } catch (const std::exception& e) {
    ipc::log_error(e.what());
    return 1;
  }
}
