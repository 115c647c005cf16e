// greeter: a libipc service for the handoff tests that writes first. The moment a client's
// session starts it sends DATA "hello SCHEME PEER" (for a connection adopted from a protocol
// daemon: the remote peer's description; "hello local" otherwise), then echoes every frame.
//   greeter --rundir RUNDIR [--name NAME] [service flags]
#include <ipc/adopt.hpp>
#include <ipc/command_line.hpp>
#include <ipc/log.hpp>
#include <ipc/service.hpp>

namespace {

ipc::asio::awaitable<void> greet_then_echo(ipc::Connection& client) {
  std::string hello = "hello local";
  if (const ipc::Adoption* remote = client.remote())
    hello = "hello " + std::string(ipc::to_string(remote->peer.scheme)) + " " + remote->peer.peer;
  if (!co_await client.send(ipc::Message::data(hello))) co_return;
  ipc::Message message;
  while (co_await client.receive(message)) {
    if (!co_await client.send(message)) co_return;
  }
}

}  // namespace

int main(int argc, char* argv[]) {
  ipc::CommandLine command_line("greeter", "[OPTIONS]", "Test service: greets each client first, then echoes.");
  command_line.options().add_options()
      ("name", ipc::po::value<std::string>()->default_value("greeter"), "service name");
  ipc::add_service_flags(command_line);
  const auto flags = command_line.parse(argc, argv);
  const ipc::ServiceOptions options = ipc::service_options(command_line, flags);
  try {
    ipc::asio::io_context io;
    ipc::Service service(io, command_line.common().rundir, options);
    service.listen(ipc::ServiceName(flags["name"].as<std::string>()), greet_then_echo);
    return service.run();
  } catch (const std::exception& e) {
    ipc::log_error(e.what());
    return 1;
  }
}
