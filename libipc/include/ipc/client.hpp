// The client side of libipc: connect to a service by name and exchange frames.
//
// ipc::connect() asks ipcd for every service whenever ipcd answers on RUNDIR/ipc (LOOKUP,
// DESIGN §4, §5.1), so that ipcd's redirections, routes and out rules reach every client; ipcd
// hands back the connection's fd. Only when nothing answers there does it connect to
// RUNDIR/SERVICE itself, and then never for a service that IPC_NETWORK routes elsewhere (that
// fails `unavailable` rather than silently going local). Either way the caller gets a
// connected socket, or an ipc::Error with the code (from ipcd when it said no). Client is the
// blocking API, async_connect() + Connection the asynchronous one.
#pragma once

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>

#include "ipc/asio.hpp"
#include "ipc/fd.hpp"
#include "ipc/message.hpp"
#include "ipc/rundir.hpp"
#include "ipc/service_name.hpp"

namespace ipc {

struct ConnectOptions {
  std::filesystem::path rundir = default_rundir();
  std::chrono::milliseconds timeout{10000};
  // The IPC_NETWORK text; unset means "read $IPC_NETWORK". An invalid value is
  // ipc::Error(bad_request) before anything is contacted.
  std::optional<std::string> network;
  // Connect to RUNDIR/SERVICE itself, never through ipcd: for ipcd and the protocol daemons'
  // own connections to local services (ipcd would be asking itself) and for tools that talk to
  // a daemon's socket (ipcctl).
  bool direct = false;
};

// A connected, blocking (close-on-exec) Unix stream socket to SERVICE.
// Throws ipc::Error: not-found when nothing answers there, bad-request for an unusable path,
// or whatever ipcd answered for a routed service.
[[nodiscard]] UniqueFd connect_unix(const std::filesystem::path& path, std::chrono::milliseconds timeout);
[[nodiscard]] UniqueFd connect(const ServiceName& service, const ConnectOptions& options = {});

// The same, for coroutines.
[[nodiscard]] asio::awaitable<UnixSocket> async_connect_unix(std::filesystem::path path, std::chrono::milliseconds timeout);
[[nodiscard]] asio::awaitable<UnixSocket> async_connect(ServiceName service, ConnectOptions options = {});
// A connection to hand on to another process: connected without the event loop where it can be
// (while the listener's backlog is full, it tries again within `timeout`), returned blocking, as
// a freshly connected socket is. ipcd connects local services for its clients with it.
[[nodiscard]] asio::awaitable<UniqueFd> async_connect_unix_fd(std::filesystem::path path, std::chrono::milliseconds timeout);

// A blocking framed connection. Every call waits at most `timeout`.
class Client {
 public:
  explicit Client(UniqueFd fd, std::size_t max_payload = default_max_payload);
  [[nodiscard]] static Client connect(const ServiceName& service, const ConnectOptions& options = {});

  // Sends one frame (header and payload in one writev where the kernel takes it).
  // Throws ipc::Error(unavailable) when the service went away, (timeout) when it stopped reading.
  void send(const Message& message);
  // The next frame. Throws ipc::Error(unavailable) at EOF, (too_large), (timeout).
  [[nodiscard]] Message receive();
  void receive(Message& out);

  void set_timeout(std::chrono::milliseconds timeout) noexcept;
  [[nodiscard]] int fd() const noexcept { return fd_.get(); }

 private:
  UniqueFd fd_;
  FrameDecoder decoder_;
  std::chrono::milliseconds timeout_{10000};
};

}  // namespace ipc
