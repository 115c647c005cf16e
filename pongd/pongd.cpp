// pongd: the echo service, and the template for writing a new service.
//
// Copy this folder, rename the program, and replace `echo` with your service's job. libipc does
// the rest: the socket at RUNDIR/NAME (or the one systemd passes), one coroutine per client,
// the frame parser and its size limit, a bounded write queue, sd_notify readiness, and a clean
// shutdown on SIGTERM that removes the socket file.
#include <ipc/adopt.hpp>
#include <ipc/command_line.hpp>
#include <ipc/log.hpp>
#include <ipc/service.hpp>
#include <ipc/text.hpp>

#include <iostream>

namespace {

// One client's whole session: every frame comes back unchanged (type, user_type, payload).
// A CLOSE frame ends the session. Returning closes the connection; an ipc::Error thrown here
// (or by receive(), e.g. too-large) reaches the client as an ERROR frame first.
ipc::asio::awaitable<void> echo(ipc::Connection& client) {
  // A remote peer's connection handed over by tcpd or websocketd (DESIGN §15) says whose it is.
  if (const ipc::Adoption* remote = client.remote())
    ipc::log_debug("echoing for ", ipc::to_string(remote->peer.scheme), " peer ", ipc::printable(remote->peer.peer),
                   remote->peer.identity.empty() ? "" : " (" + ipc::printable(remote->peer.identity) + ")");
  ipc::Message message;
  while (co_await client.receive(message)) {
    if (message.type == ipc::MessageType::close) co_return;
    if (!co_await client.send(message)) co_return;  // the client went away
  }
}

}  // namespace

int main(int argc, char* argv[]) {
  // 1. Flags.
  ipc::CommandLine command_line("pongd", "[OPTIONS]", "Echo service: answers every frame with the same frame.");
  command_line.enable_config();
  command_line.options().add_options()
      ("name", ipc::po::value<std::string>()->value_name("NAME")->default_value("pong"),
       "service name: listen on RUNDIR/NAME");
  ipc::add_service_flags(command_line);  // --max-message, --max-connections, --max-buffered, --idle-timeout
  const auto flags = command_line.parse(argc, argv);

  // 2. Configuration checks.
  const auto name_text = flags["name"].as<std::string>();
  if (auto why = ipc::ServiceName::why_invalid(name_text); !why.empty()) command_line.fail("--name: " + why);
  const ipc::ServiceOptions options = ipc::service_options(command_line, flags);

  // 3. The server object, 4. run.
  try {
    ipc::asio::io_context io;
    ipc::Service service(io, command_line.common().rundir, options);
    service.listen(ipc::ServiceName(name_text), echo);
    return service.run();
  } catch (const std::exception& e) {
    ipc::log_error(e.what());
    return 1;
  }
}
