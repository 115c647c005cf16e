// tcpd: the TCP protocol daemon. Parses flags, reads the TLS files, pre-shared keys and users,
// raises the fd limit, serves RUNDIR/tcp and RUNDIR/tls for ipcd and --listen / --listen-tls for
// remote tcpd's. `tcpd --hash-password USER` only prints a users-file line and exits.
#include <sys/resource.h>
#include <unistd.h>

#include <iostream>

#include <ipc/address.hpp>
#include <ipc/command_line.hpp>
#include <ipc/log.hpp>
#include <ipc/service.hpp>
#include <ipc/trust.hpp>

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

std::optional<std::filesystem::path> path_flag(const ipc::po::variables_map& flags, const char* name) {
  if (!flags.count(name)) return std::nullopt;
  return std::filesystem::path(flags[name].as<std::string>());
}

std::vector<boost::asio::ip::tcp::endpoint> endpoints(const ipc::CommandLine& command_line,
                                                      const std::vector<std::string>& texts, const char* flag) {
  std::vector<boost::asio::ip::tcp::endpoint> out;
  for (const auto& text : texts) {
    try {
      out.push_back(ipc::parse_listen(text));
    } catch (const std::invalid_argument& e) {
      command_line.fail(std::string("--") + flag + " " + e.what());
    }
  }
  return out;
}

// The password from stdin (one line; no echo when it is a terminal is the shell's business:
// `read -s`), never from the command line, where every local user could read it in ps.
int hash_password(const std::string& user) {
  if (::isatty(STDIN_FILENO)) std::cerr << "password for " << user << ": " << std::flush;
  std::string password;
  if (!std::getline(std::cin, password) || password.empty()) {
    std::cerr << "tcpd: --hash-password: no password on standard input\n";
    return 2;
  }
  try {
    std::cout << tcpd::hash_password_line(user, password) << "\n";
  } catch (const std::exception& e) {
    std::cerr << "tcpd: --hash-password: " << e.what() << "\n";
    return 2;
  }
  return 0;
}

}  // namespace

int main(int argc, char* argv[]) {
  // 1. Flags.
  ipc::CommandLine command_line(
      "tcpd", "[OPTIONS]",
      "The TCP protocol daemon: opens tcp:// and tls:// connections for ipcd (RUNDIR/tcp, RUNDIR/tls) and\n"
      "takes connections from remote tcpd's (--listen, --listen-tls), asking the local ipcd before\n"
      "relaying them to a service.");
  command_line.set_epilog(
      "tls:// URIs: tls://HOST/SVC verifies HOST's certificate (against --tls-ca, else the system store)\n"
      "and presents --tls-cert when given; tls://ID@HOST/SVC uses ID's --psk key instead;\n"
      "tls://USER:PASSWORD@HOST/SVC sends the password, checked by the far side's --users file.\n"
      "Without --listen and --listen-tls, tcpd listens on 127.0.0.1:9000 (plain).\n"
      "Make a --users line: read -rs PW; echo \"$PW\" | tcpd --hash-password alice >> users");
  command_line.enable_config("/etc/ipc/tcpd.json");
  command_line.options().add_options()
      ("listen", ipc::po::value<std::vector<std::string>>()->value_name("HOST:PORT")->composing(),
       "accept remote tcpd's on HOST:PORT (repeatable; default 127.0.0.1:9000; port 0 picks a free one)")
      ("listen-tls", ipc::po::value<std::vector<std::string>>()->value_name("HOST:PORT")->composing(),
       "accept remote tcpd's over TLS on HOST:PORT (repeatable; needs --tls-cert/--tls-key, --psk or --psk-file)")
      ("no-listen", "outbound only: accept no remote connections")
      ("no-handoff",
       "relay plain tcp:// connections instead of handing their TCP socket to the client (the default: "
       "tcpd then keeps nothing of the connection; tls:// is always relayed)")
      ("tls-cert", ipc::po::value<std::string>()->value_name("FILE"),
       "PEM certificate (chain) this tcpd presents: as the server on --listen-tls, as the client on tls://")
      ("tls-key", ipc::po::value<std::string>()->value_name("FILE"), "PEM private key of --tls-cert")
      ("tls-ca", ipc::po::value<std::string>()->value_name("FILE"),
       "PEM certificates trusted to verify the other side (servers, and clients' certificates); "
       "default the system store")
      ("psk", ipc::po::value<std::vector<std::string>>()->value_name("ID:HEXKEY")->composing(),
       "a TLS 1.3 pre-shared key of 16 to 64 bytes in hex (repeatable): used for tls://ID@HOST/SVC, and "
       "the only identities accepted by PSK on --listen-tls; every user can read it in the process list: give "
       "keys with --psk-file")
      ("psk-file", ipc::po::value<std::string>()->value_name("FILE"),
       "pre-shared keys as --psk takes them, one ID:HEXKEY a line (blank lines and '#' comments ignored), from "
       "a file its group and others have no permission on (refused otherwise, as ssh refuses such a key)")
      ("users", ipc::po::value<std::string>()->value_name("FILE"),
       "users allowed to log in with tls://USER:PASSWORD@...: lines user:salt:hash (PBKDF2-SHA256, "
       "see --hash-password)")
      ("hash-password", ipc::po::value<std::string>()->value_name("USER"),
       "print a --users line for USER with the password read from standard input, and exit")
      ("connect-timeout", ipc::po::value<double>()->value_name("SECONDS")->default_value(10),
       "deadline to resolve and connect to a remote tcpd")
      ("handshake-timeout", ipc::po::value<double>()->value_name("SECONDS")->default_value(10),
       "deadline for a handshake, either side, and for ipcd's answers")
      ("max-connections", ipc::po::value<std::size_t>()->value_name("N")->default_value(4096),
       "inbound connections (and, separately, outbound ones) handled at once; more wait in the backlog, "
       "and for a waiting one the inbound connection silent longest (1 s or more, no handshake yet) is closed")
      ("max-per-peer", ipc::po::value<std::size_t>()->value_name("N")->default_value(0),
       "inbound connections one remote address may hold at once (0: no limit; a host's tcpd opens one per "
       "client it carries); one more is closed before its handshake, told why on plain TCP")
      ("broker-user", ipc::po::value<std::vector<std::string>>()->value_name("USER")->composing(),
       "the user ipcd runs as, the only one besides root whose CONNECT is taken on RUNDIR/tcp and RUNDIR/tls "
       "(repeatable; default: the user ipcd if it exists, and tcpd's own user)");
  ipc::add_session_flags(command_line);
  ipc::add_keepalive_flag(command_line);
  const auto flags = command_line.parse(argc, argv);
  if (flags.count("hash-password")) return hash_password(flags["hash-password"].as<std::string>());

  // 2. Configuration.
  tcpd::Settings settings;
  settings.rundir = command_line.common().rundir;
  settings.connect_timeout = ipc::seconds_flag(command_line, flags, "connect-timeout");
  settings.handshake_timeout = ipc::seconds_flag(command_line, flags, "handshake-timeout");
  settings.max_connections = flags["max-connections"].as<std::size_t>();
  settings.keepalive = ipc::keepalive_flag(command_line, flags);
  settings.handoff = !flags.count("no-handoff");
  settings.max_per_peer = flags["max-per-peer"].as<std::size_t>();
  settings.broker = ipc::trusted_users_flag(command_line, flags, "broker-user", {ipc::broker_user});
  if (settings.max_connections == 0) command_line.fail("--max-connections must be at least 1");
  if (flags.count("no-listen") && (flags.count("listen") || flags.count("listen-tls")))
    command_line.fail("--no-listen excludes --listen and --listen-tls");
  if (flags.count("listen-tls"))
    settings.listen_tls = endpoints(command_line, flags["listen-tls"].as<std::vector<std::string>>(), "listen-tls");
  // The plain default only when no listener at all was asked for: asking for TLS alone must not
  // open a plain port as well.
  if (flags.count("listen"))
    settings.listen = endpoints(command_line, flags["listen"].as<std::vector<std::string>>(), "listen");
  else if (!flags.count("no-listen") && !flags.count("listen-tls"))
    settings.listen = endpoints(command_line, {"127.0.0.1:9000"}, "listen");
  settings.tls = {path_flag(flags, "tls-cert"), path_flag(flags, "tls-key"), path_flag(flags, "tls-ca")};
  if (settings.tls.cert.has_value() != settings.tls.key.has_value())
    command_line.fail("--tls-cert and --tls-key go together");
  if (flags.count("psk")) {
    for (const auto& text : flags["psk"].as<std::vector<std::string>>()) {
      try {
        settings.psk.add(text);
      } catch (const std::invalid_argument& e) {
        command_line.fail(std::string("--psk: ") + e.what());
      }
    }
  }
  if (const auto file = path_flag(flags, "psk-file")) {
    try {
      settings.psk.load(*file);
    } catch (const std::exception& e) {
      command_line.fail(std::string("--psk-file: ") + e.what());
    }
  }
  if (!settings.listen_tls.empty() && !settings.tls.cert && settings.psk.empty())
    command_line.fail("--listen-tls needs a certificate (--tls-cert, --tls-key) or pre-shared keys (--psk, --psk-file)");
  if (const auto users = path_flag(flags, "users")) {
    try {
      settings.users = tcpd::Users::load(*users);
    } catch (const std::exception& e) {
      command_line.fail(std::string("--users ") + e.what());
    }
  }
  raise_fd_limit();
  ipc::ServiceOptions options;
  options.limits.max_payload = tcpd::max_handshake;
  options.max_connections = settings.max_connections;
  const ipc::SessionFlags session = ipc::session_flags(command_line, flags);
  options.drain = session.drain;
  options.limits.write_timeout = session.write_timeout;
  settings.write_timeout = session.write_timeout;

  // 3. The server objects, 4. run.
  try {
    ipc::asio::io_context io;
    ipc::Service service(io, settings.rundir, options);
    std::optional<tcpd::Tcpd> made;
    try {
      made.emplace(service, std::move(settings));
    } catch (const std::runtime_error& e) {
      // A certificate, key or CA file that cannot be used is a bad flag value.
      command_line.fail(e.what());
    }
    tcpd::Tcpd& tcpd = *made;
    tcpd.start();
    return service.run();
  } catch (const std::exception& e) {
    ipc::log_error(e.what());
    return 1;
  }
}
