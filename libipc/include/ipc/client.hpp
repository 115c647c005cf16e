// The client side of libipc: connect to a service by name and exchange frames.
//
// ipc::connect() reaches RUNDIR/SERVICE directly. (When IPC_NETWORK names the service the
// connection goes through ipcd instead; that path arrives with ipcd.) Client is the blocking
// API, async_connect() + Connection the asynchronous one.
#pragma once

#include <chrono>
#include <filesystem>

#include "ipc/asio.hpp"
#include "ipc/fd.hpp"
#include "ipc/message.hpp"
#include "ipc/rundir.hpp"
#include "ipc/service_name.hpp"

namespace ipc {

struct ConnectOptions {
  std::filesystem::path rundir = default_rundir();
  std::chrono::milliseconds timeout{10000};
};

// A connected, blocking (close-on-exec) Unix stream socket to RUNDIR/SERVICE.
// Throws ipc::Error: not-found when nothing answers there, bad-request for an unusable path.
[[nodiscard]] UniqueFd connect_unix(const std::filesystem::path& path, std::chrono::milliseconds timeout);
[[nodiscard]] UniqueFd connect(const ServiceName& service, const ConnectOptions& options = {});

// The same, for coroutines.
[[nodiscard]] asio::awaitable<UnixSocket> async_connect(const ServiceName& service, ConnectOptions options = {});

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

  void set_timeout(std::chrono::milliseconds timeout) noexcept { timeout_ = timeout; }
  [[nodiscard]] int fd() const noexcept { return fd_.get(); }

 private:
  UniqueFd fd_;
  FrameDecoder decoder_;
  std::chrono::milliseconds timeout_{10000};
};

}  // namespace ipc
