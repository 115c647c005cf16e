// tcpd: the TCP protocol daemon. Parses flags, raises the fd limit, serves RUNDIR/tcp and
// RUNDIR/tls for ipcd and --listen for remote tcpd's.
#include <sys/resource.h>

#include <ipc/command_line.hpp>
#include <ipc/log.hpp>
#include <ipc/service.hpp>

#include "handshake.hpp"
#include "tcpd.hpp"

namespace {

// Relayed connections cost two fds each: take what the hard limit allows.
void raise_fd_limit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &limit) != 0) ipc::log_warn("cannot raise the fd limit");
  }
}

std::chrono::milliseconds seconds_flag(const ipc::CommandLine& command_line, const ipc::po::variables_map& flags,
                                       const char* name) {
  const double value = flags[name].as<double>();
  if (!(value > 0) || value > 3600) command_line.fail(std::string("--") + name + " must be between 0 and 3600 seconds");
  return std::chrono::milliseconds(static_cast<long>(value * 1000));
}

}  // namespace

int main(int argc, char* argv[]) {
  // 1. Flags.
  ipc::CommandLine command_line(
      "tcpd", "[OPTIONS]",
      "The TCP protocol daemon: opens tcp:// connections for ipcd (RUNDIR/tcp) and takes connections\n"
      "from remote tcpd's (--listen), asking the local ipcd before relaying them to a service.");
  command_line.enable_config();
  command_line.options().add_options()
      ("listen", ipc::po::value<std::vector<std::string>>()->value_name("HOST:PORT")->composing(),
       "accept remote tcpd's on HOST:PORT (repeatable; default 127.0.0.1:9000; port 0 picks a free one)")
      ("no-listen", "outbound only: accept no remote connections")
      ("connect-timeout", ipc::po::value<double>()->value_name("SECONDS")->default_value(10),
       "deadline to resolve and connect to a remote tcpd")
      ("handshake-timeout", ipc::po::value<double>()->value_name("SECONDS")->default_value(10),
       "deadline for a handshake, either side, and for ipcd's answers")
      ("max-connections", ipc::po::value<std::size_t>()->value_name("N")->default_value(4096),
       "inbound connections (and, separately, outbound ones) handled at once; more wait in the backlog");
  const auto flags = command_line.parse(argc, argv);

  // 2. Configuration.
  tcpd::Settings settings;
  settings.rundir = command_line.common().rundir;
  settings.connect_timeout = seconds_flag(command_line, flags, "connect-timeout");
  settings.handshake_timeout = seconds_flag(command_line, flags, "handshake-timeout");
  settings.max_connections = flags["max-connections"].as<std::size_t>();
  if (settings.max_connections == 0) command_line.fail("--max-connections must be at least 1");
  if (flags.count("no-listen") && flags.count("listen")) command_line.fail("--no-listen and --listen exclude each other");
  if (!flags.count("no-listen")) {
    const auto listen = flags.count("listen") ? flags["listen"].as<std::vector<std::string>>()
                                              : std::vector<std::string>{"127.0.0.1:9000"};
    for (const auto& text : listen) {
      try {
        settings.listen.push_back(tcpd::parse_listen(text));
      } catch (const std::invalid_argument& e) {
        command_line.fail(std::string("--listen ") + e.what());
      }
    }
  }
  raise_fd_limit();
  ipc::ServiceOptions options;
  options.limits.max_payload = tcpd::max_handshake;
  options.max_connections = settings.max_connections;

  // 3. The server objects, 4. run.
  try {
    ipc::asio::io_context io;
    ipc::Service service(io, settings.rundir, options);
    tcpd::Tcpd tcpd(service, settings);
    tcpd.start();
    return service.run();
  } catch (const std::exception& e) {
    ipc::log_error(e.what());
    return 1;
  }
}
