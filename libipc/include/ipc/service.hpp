// Service: the server side of libipc. Listens on RUNDIR/NAME (or on a socket inherited from
// systemd), runs one coroutine per client that owns its Connection, caps the number of clients,
// reports readiness with sd_notify, and shuts down cleanly on SIGINT/SIGTERM: stop accepting,
// remove the socket file, let each client's session finish the request it is working on (the
// drain, ServiceOptions::drain), close what is left. The sessions run on ipc::Server.
//
// A service's whole job is its handler:
//
//   service.listen(name, [](ipc::Connection& c) -> asio::awaitable<void> { ... });
//
// The handler returns when it is done with the client. An ipc::Error it throws is sent to the
// client as an ERROR frame before the connection closes; other exceptions are logged as
// internal errors. Either way the service goes on serving everybody else.
#pragma once

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <functional>
#include <list>
#include <memory>
#include <optional>
#include <vector>

#include <boost/asio/signal_set.hpp>

#include "ipc/adopt.hpp"
#include "ipc/asio.hpp"
#include "ipc/command_line.hpp"
#include "ipc/connection.hpp"
#include "ipc/listener.hpp"
#include "ipc/peer_limit.hpp"
#include "ipc/server.hpp"
#include "ipc/service_name.hpp"
#include "ipc/systemd.hpp"
#include "ipc/ws/budget.hpp"

namespace ipc {

struct ServiceOptions {
  ConnectionLimits limits;             // (limits.budget is the Service's own; see max_buffered)
  std::size_t max_connections = 4096;  // at the cap, stop accepting until a client leaves
  // At stop: how long sessions may go on finishing what they are doing (--drain); then they are
  // closed, and given shutdown_grace to end.
  std::chrono::milliseconds drain{5000};
  std::chrono::milliseconds shutdown_grace{3000};
  // Bytes all clients together may hold in frames not received whole (0: no budget). Over it,
  // the largest holder gets too-large and is closed.
  std::size_t max_buffered = 256 * 1024 * 1024;
  // A client that sends and receives nothing for this long gets ERROR timeout and is closed
  // (0: never, the default, as the original C libipc's services behave).
  std::chrono::milliseconds idle_timeout{0};
  // Connections one uid (SO_PEERCRED) may hold at once (0: no limit); one more gets ERROR
  // unavailable. The uids in per_peer_exempt are not counted: root and ipcd's user, which
  // connect on behalf of many clients.
  std::size_t max_per_peer = 0;
  std::vector<uid_t> per_peer_exempt;
  // At the connection cap, the client idle longest is closed to make room for a new one, once it
  // has been idle this long (0: never, the default: the new client waits in the backlog).
  // service_options() sets 1 s: a service's client that says nothing holds its slot for nothing.
  // Not for servers whose sessions wait on others (ipcd's lookups, relays).
  std::chrono::milliseconds shed_idle_after{0};
  // Open the adoption socket RUNDIR/NAME@adopt beside RUNDIR/NAME (DESIGN §15), so that a remote
  // peer's connection can be handed to the service itself; service_options() sets it unless
  // --no-adopt. ADOPT is taken from the uids in adopt_from only (--adopt-from).
  bool adopt = false;
  std::vector<uid_t> adopt_from;
};

// The flags of a libipc service, for pongd and every service made from it: --max-message,
// --max-connections, --max-per-peer, --max-buffered, --idle-timeout, --no-adopt, --adopt-from,
// --drain, --write-timeout. service_options() checks
// them (a bad value exits 2 through command_line.fail).
void add_service_flags(CommandLine& command_line);
[[nodiscard]] ServiceOptions service_options(const CommandLine& command_line, const po::variables_map& flags);
// The session flags every daemon takes (add_service_flags includes them): --drain SECONDS, how
// long at stop the sessions may finish what they are doing before they are closed (default 5),
// and --write-timeout SECONDS, how long a peer may take nothing while data waits for it before
// it is dropped (default 60; 0: never).
struct SessionFlags {
  std::chrono::milliseconds drain;
  std::chrono::milliseconds write_timeout;
};
void add_session_flags(CommandLine& command_line);
[[nodiscard]] SessionFlags session_flags(const CommandLine& command_line, const po::variables_map& flags);

// --keepalive SECONDS, for the daemons that carry TCP connections (ipc::tune_tcp): how long a
// remote connection may be silent before its peer is probed; the peer is declared gone after
// about twice that (default 60; 0: the kernel's own timing).
void add_keepalive_flag(CommandLine& command_line);
[[nodiscard]] std::chrono::seconds keepalive_flag(const CommandLine& command_line, const po::variables_map& flags);

class Service {
 public:
  using Handler = std::function<asio::awaitable<void>(Connection&)>;

  Service(asio::io_context& io, std::filesystem::path rundir, ServiceOptions options = {});
  ~Service();
  Service(const Service&) = delete;
  Service& operator=(const Service&) = delete;

  // Serves NAME with `handler`. Uses a socket inherited from systemd when one is named NAME
  // (or is the only one), else binds RUNDIR/NAME. With options.adopt, also RUNDIR/NAME@adopt
  // (inherited when one is named so): each connection adopted there is served by `handler` as
  // a client's, with Connection::remote() saying who the remote peer is. Throws
  // std::runtime_error saying why not.
  void listen(const ServiceName& name, Handler handler);

  // Starts a session on an already connected stream socket (e.g. one passed by another daemon).
  void adopt(UnixSocket socket, Handler handler);

  // The session runner under the service, for a daemon's other listeners (TCP): they share
  // its registry, its stop and its drain.
  [[nodiscard]] Server& server() noexcept { return server_; }

  // Called on SIGHUP.
  void on_reload(std::function<void()> callback) { on_reload_ = std::move(callback); }

  // Reports READY=1, runs until stopped, returns the process exit status: 0, or 1 when the
  // service stopped because its socket file or the run directory was removed (nobody could
  // reach it any more; under systemd, Restart=on-failure brings it back with a fresh socket).
  int run();
  // Begins the shutdown (as SIGTERM does).
  void stop();

  [[nodiscard]] std::size_t session_count() const noexcept { return clients_.open(); }
  [[nodiscard]] asio::io_context& io() noexcept { return io_; }
  [[nodiscard]] const std::filesystem::path& rundir() const noexcept { return rundir_; }

 private:
  // One client: its Connection, the hooks the Server ends it by, the handler. `remote` for a
  // connection adopted from a protocol daemon.
  asio::awaitable<void> session(UnixSocket socket, SessionTicket ticket, const Handler& handler,
                                std::unique_ptr<const Adoption> remote = nullptr,
                                std::optional<PeerLimit::Slot> remote_slot = std::nullopt);
  // One connection on the adoption socket: who sent it, its ADOPT, the answer; then the adopted
  // connection becomes a session of the clients' group.
  // `name` is the service's, as listen() was given it.
  asio::awaitable<void> adoption(UnixSocket socket, SessionTicket ticket, const Handler& handler, ServiceName name);
  // The socket systemd passed for `name` (or the only unnamed one, when `only_one` allows it).
  ListeningSocket inherited(const std::string& name, const std::filesystem::path& path, bool only_one);
  // The client's place in its uid's count (--max-per-peer); false when it is over (it has been
  // told why and closed).
  bool take_peer_slot(Connection& connection, std::optional<PeerLimit::Slot>& slot);
  asio::awaitable<void> watch_signals();
  asio::awaitable<void> close_idle_sessions();
  // Stops the service (exit status 1) when the run directory or a socket file goes: reads the
  // inotify descriptor `fd` (watching the run directory) and owns it.
  asio::awaitable<void> watch_rundir(int fd);

  asio::io_context& io_;
  std::filesystem::path rundir_;
  ServiceOptions options_;
  Server server_;
  Server::Group& clients_;
  Server::Group& adopters_;  // connections on adoption sockets, each until its ADOPT is answered
  Server::Group& bridges_;   // the WebSocket side of each adopted ws:// connection
  ws::MessageBudget ws_budget_;  // what their unfinished messages hold (--max-buffered; 0: no bound)
  std::list<ListeningSocket> sockets_;  // the files to remove at stop
  BufferBudget budget_;
  PeerLimit per_peer_;
  PeerLimit remote_peers_;  // adopted connections by remote address (each ADOPT says its maximum)
  int exit_status_ = 0;
  bool inherited_taken_ = false;
  std::vector<systemd::ListenFd> inherited_;
  std::function<void()> on_reload_;
  // Registered at construction, so a SIGTERM that arrives right after READY=1 is not lost.
  asio::signal_set signals_;
};

}  // namespace ipc
