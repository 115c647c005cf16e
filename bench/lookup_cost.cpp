// lookup_cost: what a connection through ipcd costs next to a direct one and next to the least a
// broker can do. Each sample is a new connection and one round trip with pongd:
//   direct      connect RUNDIR/pong itself (ConnectOptions::direct), one round trip;
//   raw broker  connect a minimal broker (a child process forked here: blocking accept, read the
//               LOOKUP frame, connect RUNDIR/pong, send "ok" with that fd by SCM_RIGHTS, close),
//               receive the fd, one round trip on it: the physical limit of brokering;
//   ipcd        what every libipc client does while ipcd runs, IPC_NETWORK empty: LOOKUP on
//               RUNDIR/ipc (ipc::connect), the fd back from ipcd, one round trip on it.
// Human-readable lines go to stderr, one JSON line with the medians to stdout.
//   lookup_cost [-n COUNT]   (IPC_RUNDIR with ipcd and pongd running)
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <functional>
#include <ipc/client.hpp>
#include <ipc/error.hpp>
#include <ipc/fd.hpp>
#include <string>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

double median_micros(const char* label, long count, const std::function<ipc::UniqueFd()>& open) {
  std::vector<double> micros;
  const auto request = ipc::Message::data("ping");
  for (long i = 0; i < count; ++i) {
    const auto t0 = Clock::now();
    ipc::Client client(open());
    client.send(request);
    if (client.receive() != request) throw std::runtime_error(std::string(label) + ": bad echo");
    micros.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
  }
  std::sort(micros.begin(), micros.end());
  const double median = micros[micros.size() / 2];
  std::fprintf(stderr, "%-44s median %7.1f us  p99 %7.1f us  (%ld connections)\n", label, median,
               micros[static_cast<std::size_t>(0.99 * static_cast<double>(micros.size() - 1))], count);
  return median;
}

sockaddr_un unix_address(const std::string& path) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (path.size() >= sizeof address.sun_path) throw std::runtime_error("path too long: " + path);
  std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
  return address;
}

// The minimal broker: no policy, no timeouts, no concurrency; just the syscalls a broker cannot
// avoid (accept, the request, connect, sendmsg with the fd). It reads and answers with the same
// libipc calls ipcd's clients use, so the two sides differ only in the broker. Runs in a child
// process until the parent shuts the listening socket down.
[[noreturn]] void raw_broker(int listener, const std::string& service_path) {
  const sockaddr_un service = unix_address(service_path);
  const ipc::Message ok = ipc::Message::data("ok");
  for (;;) {
    const ipc::UniqueFd client(::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC));
    if (!client) ::_exit(0);
    try {
      (void)ipc::recv_frame_with_fd(client.get(), 4096);  // the LOOKUP; what it asks is not read
      const ipc::UniqueFd target(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
      if (::connect(target.get(), reinterpret_cast<const sockaddr*>(&service), sizeof service) == 0)
        ipc::send_frame_with_fd(client.get(), ok, target.get());
    } catch (const ipc::Error&) {
      // a client that went away: the next one
    }
  }
}

// The client side of the raw broker: connect, LOOKUP, the "ok" frame with the fd.
ipc::UniqueFd raw_lookup(const sockaddr_un& broker) {
  ipc::UniqueFd socket(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (::connect(socket.get(), reinterpret_cast<const sockaddr*>(&broker), sizeof broker) != 0)
    throw std::runtime_error("raw broker: connect failed");
  ipc::send_frame_with_fd(socket.get(), {ipc::MessageType::lookup, 0, "pong;"}, -1);
  auto answer = ipc::recv_frame_with_fd(socket.get());
  if (answer.message.payload != "ok" || !answer.fd) throw std::runtime_error("raw broker: no fd");
  return std::move(answer.fd);
}

}  // namespace

int main(int argc, char* argv[]) {
  long count = 2000;
  if (argc == 3 && std::strcmp(argv[1], "-n") == 0) count = std::max(1L, std::atol(argv[2]));
  else if (argc != 1) {
    std::fprintf(stderr, "usage: lookup_cost [-n COUNT]   (IPC_RUNDIR with ipcd and pongd running)\n");
    return 2;
  }
  const std::filesystem::path rundir = ipc::default_rundir();
  char scratch[] = "/tmp/ipc-rawbroker-XXXXXX";
  if (::mkdtemp(scratch) == nullptr) return 1;
  const std::string broker_path = std::string(scratch) + "/broker";
  const sockaddr_un broker = unix_address(broker_path);
  const int listener = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (::bind(listener, reinterpret_cast<const sockaddr*>(&broker), sizeof broker) != 0 || ::listen(listener, 64) != 0) {
    std::perror("lookup_cost: raw broker socket");
    return 1;
  }
  const pid_t child = ::fork();
  if (child == 0) raw_broker(listener, (rundir / "pong").string());
  int status = 0;
  try {
    ipc::ConnectOptions direct_options, ipcd_options;
    direct_options.direct = true;
    ipcd_options.network = "";
    const ipc::ServiceName pong("pong");
    const double direct = median_micros("direct connect + 1 round trip", count, [&] { return ipc::connect(pong, direct_options); });
    const double raw = median_micros("raw broker + fd back + 1 round trip", count, [&] { return raw_lookup(broker); });
    const double through = median_micros("lookup through ipcd + fd back + 1 round trip", count,
                                         [&] { return ipc::connect(pong, ipcd_options); });
    std::printf("{\"connections\": %ld, \"direct_us\": %.2f, \"raw_broker_us\": %.2f, \"ipcd_us\": %.2f}\n", count,
                direct, raw, through);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "lookup_cost: %s\n", e.what());
    status = 1;
  }
  ::shutdown(listener, SHUT_RDWR);  // the broker's accept fails: it exits
  ::close(listener);
  ::kill(child, SIGTERM);
  ::waitpid(child, nullptr, 0);
  ::unlink(broker_path.c_str());
  ::rmdir(scratch);
  return status;
}
