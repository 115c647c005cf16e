// ipcctl: asks ipcd for its status, for the decision it would take on a lookup, or to reload.
#include <iostream>
#include <ipc/broker.hpp>
#include <ipc/client.hpp>
#include <ipc/command_line.hpp>
#include <ipc/error.hpp>
#include <nlohmann/json.hpp>

int main(int argc, char* argv[]) {
  ipc::CommandLine command_line(
      "ipcctl", "[OPTIONS] status | lookup SERVICE | reload",
      "Talks to ipcd on RUNDIR/ipc:\n"
      "  status          ipcd's status as JSON: uptime, counters, rules, redirects, routes\n"
      "  lookup SERVICE  what ipcd would do for a client of libipc asking for SERVICE (with this shell's\n"
      "                  IPC_NETWORK), without connecting; original_client says what a client of the\n"
      "                  original C libipc 0.7 does instead (it asks ipcd only for services its IPC_NETWORK names)\n"
      "  reload          re-read ipcd's config file (as SIGHUP does); an invalid file is reported and ignored");
  command_line.options().add_options()
      ("command", ipc::po::value<std::string>(), "status, lookup or reload (1st argument)")
      ("service", ipc::po::value<std::string>(), "the service for lookup (2nd argument)")
      ("timeout", ipc::po::value<double>()->value_name("SECONDS")->default_value(10), "how long to wait for ipcd");
  command_line.add_positional("command", 1);
  command_line.add_positional("service", 1);
  const auto flags = command_line.parse(argc, argv);
  if (!flags.count("command")) command_line.fail("a command is required: status, lookup SERVICE or reload");
  const auto command = flags["command"].as<std::string>();
  nlohmann::json body{{"command", command}};
  if (command == "lookup") {
    if (!flags.count("service")) command_line.fail("lookup needs a SERVICE");
    body["service"] = flags["service"].as<std::string>();
    const char* network = std::getenv("IPC_NETWORK");
    body["routes"] = network != nullptr ? network : "";
  } else if (command != "status" && command != "reload") {
    command_line.fail("unknown command '" + command + "' (status, lookup or reload)");
  } else if (flags.count("service")) {
    command_line.fail(command + " takes no argument");
  }
  const double timeout = flags["timeout"].as<double>();
  if (!(timeout > 0)) command_line.fail("--timeout must be positive");

  try {
    ipc::ConnectOptions options;
    options.rundir = command_line.common().rundir;
    options.timeout = std::chrono::milliseconds(static_cast<long>(timeout * 1000));
    options.direct = true;
    ipc::Client ipcd(ipc::UniqueFd{}, ipc::max_request_payload);
    try {
      ipcd = ipc::Client::connect(ipc::ServiceName(ipc::broker_socket), options);
    } catch (const ipc::Error& e) {
      if (e.code() == ipc::ErrorCode::not_found) throw ipc::Error(ipc::ErrorCode::unavailable, "ipcd is not running (" + e.text() + ")");
      throw;
    }
    ipcd.send(ipc::Message{ipc::MessageType::status, 0, command == "status" ? "" : body.dump()});
    const auto reply = ipcd.receive();
    if (reply.type == ipc::MessageType::error) throw ipc::Error::from_payload(reply.payload);
    std::cout << nlohmann::json::parse(reply.payload).dump(2) << std::endl;
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "ipcctl: " << e.what() << "\n";
    return 1;
  }
}
