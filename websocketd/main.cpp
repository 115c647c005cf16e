// websocketd: the WebSocket protocol daemon (DESIGN §11). Browsers and other WebSocket clients
// reach local services at ws://HOST:PORT/SERVICE (through ipcd's INBOUND decision), static
// files are served from --static-dir, and ipcd's CONNECT on RUNDIR/ws opens ws:// connections
// to remote websocketd's.
#include <ipc/address.hpp>
#include <ipc/command_line.hpp>
#include <ipc/log.hpp>

#include "server.hpp"


int main(int argc, char* argv[]) {
  // 1. Flags.
  ipc::CommandLine command_line("websocketd", "[OPTIONS]",
                                "WebSocket protocol daemon: ws://HOST:PORT/SERVICE (wss:// with --tls-cert) reaches the\n"
                                "local SERVICE (as ipcd allows), static files for browsers, and outbound ws:// and wss://\n"
                                "for ipcd on RUNDIR/ws and RUNDIR/wss.");
  command_line.enable_config();
  command_line.options().add_options()
      ("listen", ipc::po::value<std::string>()->value_name("HOST:PORT")->default_value("127.0.0.1:8080"),
       "HTTP and WebSocket address (port 0: any free port, logged)")
      ("no-listen", "no TCP listener: outbound ws:// for ipcd only")
      ("static-dir", ipc::po::value<std::string>()->value_name("DIR"),
       "serve the files under DIR over HTTP (GET, HEAD; DIR/index.html for /)")
      ("host", ipc::po::value<std::vector<std::string>>()->value_name("NAME")->composing(),
       "a name this websocketd answers to in the Host header (repeatable; a glob such as\n"
       "\"*.example.org\"; \"*\" turns the check off). Always: the address a connection arrived on,\n"
       "localhost on loopback, and this machine's host name. Any other Host gets 421 (DNS rebinding)")
      ("origin", ipc::po::value<std::vector<std::string>>()->value_name("PATTERN")->composing(),
       "allow WebSocket connections from pages of this origin (repeatable; glob on the origin, or\n"
       "on its host[:port] when the pattern has no \"://\"; \"*\" allows all). Default: only pages\n"
       "served by this websocketd and clients that send no Origin")
      ("max-message", ipc::po::value<std::size_t>()->value_name("BYTES")->default_value(ipc::default_max_payload),
       "largest message payload either way; a larger one closes that connection (code 1009)")
      ("max-connections", ipc::po::value<std::size_t>()->value_name("N")->default_value(1024),
       "TCP connections served at once; at the cap websocketd stops accepting, and for a waiting peer "
       "closes the connection that has gone longest (1 s or more) without a request; WebSockets stay")
      ("max-per-peer", ipc::po::value<std::size_t>()->value_name("N")->default_value(0),
       "TCP connections one remote address may hold at once (0: no limit); one more gets 503")
      ("max-buffered", ipc::po::value<std::size_t>()->value_name("BYTES")->default_value(256 * 1024 * 1024),
       "bytes all connections together may hold in WebSocket messages not yet received whole (0: no bound); "
       "over it the connection holding the most is closed with 1009")
      ("idle-timeout", ipc::po::value<double>()->value_name("SECONDS")->default_value(60),
       "a WebSocket peer silent for half of this gets a ping; silent for all of it, it is dropped")
      ("timeout", ipc::po::value<double>()->value_name("SECONDS")->default_value(10),
       "deadline for HTTP requests, handshakes, close handshakes, ipcd's answers and outbound connects")
      ("no-handoff",
       "relay every WebSocket to its service instead of handing a plain ws:// connection to a service that "
       "adopts it (the default: websocketd then keeps nothing of the connection, and the service answers the "
       "upgrade itself; wss:// is always relayed)")
      ("tls-cert", ipc::po::value<std::string>()->value_name("FILE"),
       "PEM certificate (chain): the listener speaks TLS (https:// and wss://)")
      ("tls-key", ipc::po::value<std::string>()->value_name("FILE"), "PEM private key of --tls-cert")
      ("tls-ca", ipc::po::value<std::string>()->value_name("FILE"),
       "PEM certificates trusted to verify wss:// servers for ipcd (default the system store)")
      ("broker-user", ipc::po::value<std::vector<std::string>>()->value_name("USER")->composing(),
       "the user ipcd runs as, the only one besides root whose CONNECT is taken on RUNDIR/ws and RUNDIR/wss "
       "(repeatable; default: the user ipcd if it exists, and websocketd's own user)");
  command_line.set_epilog(
      "Examples:\n"
      "  ipcd --allow in pong ws:127.0.0.1 &\n"
      "  websocketd --static-dir /usr/share/ipc/www     # then open http://127.0.0.1:8080/\n"
      "  IPC_NETWORK=\"pong ws://host.example:8080/pong\" pong\n");
  ipc::add_session_flags(command_line);
  ipc::add_keepalive_flag(command_line);
  const auto flags = command_line.parse(argc, argv);

  // 2. Configuration checks.
  websocketd::Settings settings;
  settings.rundir = command_line.common().rundir;
  settings.broker = ipc::trusted_users_flag(command_line, flags, "broker-user", {ipc::broker_user});
  settings.handoff = !flags.count("no-handoff");
  if (!flags.count("no-listen")) {
    try {
      settings.listen = ipc::parse_listen(flags["listen"].as<std::string>());
    } catch (const std::invalid_argument& e) {
      command_line.fail(std::string("--listen ") + e.what());
    }
  }
  if (flags.count("static-dir")) {
    std::error_code ec;
    settings.static_dir = std::filesystem::canonical(flags["static-dir"].as<std::string>(), ec);
    if (ec || !std::filesystem::is_directory(settings.static_dir))
      command_line.fail("--static-dir: " + flags["static-dir"].as<std::string>() + " is not a directory");
  }
  if (flags.count("host")) {
    auto patterns = flags["host"].as<std::vector<std::string>>();
    for (const auto& p : patterns) {
      if (p.empty() || p.size() > 253 || p.find_first_of(" \t:/[]") != std::string::npos)
        command_line.fail("--host: '" + p + "' is not a host name or glob (no port, no scheme)");
    }
    settings.hosts = websocketd::HostPolicy(std::move(patterns));
  }
  if (flags.count("origin")) {
    auto patterns = flags["origin"].as<std::vector<std::string>>();
    for (const auto& p : patterns)
      if (p.empty()) command_line.fail("--origin: empty pattern");
    settings.origins = websocketd::OriginPolicy(std::move(patterns));
  }
  settings.max_message = flags["max-message"].as<std::size_t>();
  if (settings.max_message == 0 || settings.max_message > 0xffffffffu)
    command_line.fail("--max-message: between 1 and 4294967295");
  settings.max_connections = flags["max-connections"].as<std::size_t>();
  settings.max_per_peer = flags["max-per-peer"].as<std::size_t>();
  settings.max_buffered = flags["max-buffered"].as<std::size_t>();
  if (settings.max_connections == 0) command_line.fail("--max-connections: must be at least 1");
  settings.idle_timeout = ipc::seconds_flag(command_line, flags, "idle-timeout");
  settings.timeout = ipc::seconds_flag(command_line, flags, "timeout");
  const ipc::SessionFlags session = ipc::session_flags(command_line, flags);
  settings.drain = session.drain;
  settings.write_timeout = session.write_timeout;
  settings.keepalive = ipc::keepalive_flag(command_line, flags);
  const auto path = [&](const char* name) -> std::optional<std::filesystem::path> {
    if (!flags.count(name)) return std::nullopt;
    return std::filesystem::path(flags[name].as<std::string>());
  };
  settings.tls = {path("tls-cert"), path("tls-key"), path("tls-ca")};
  if (settings.tls.cert.has_value() != settings.tls.key.has_value())
    command_line.fail("--tls-cert and --tls-key go together");
  if (settings.tls.cert && !settings.listen) command_line.fail("--tls-cert: there is no listener (--no-listen)");

  // 3. The server object, 4. run.
  try {
    websocketd::asio::io_context io;
    std::optional<websocketd::Server> server;
    try {
      server.emplace(io, std::move(settings));
    } catch (const std::runtime_error& e) {
      // A certificate, key or CA file that cannot be used is a bad flag value.
      command_line.fail(e.what());
    }
    return server->run();
  } catch (const std::exception& e) {
    ipc::log_error(e.what());
    return 1;
  }
}
