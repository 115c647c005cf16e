// lookup_cost: what a connection through ipcd costs next to a direct one and next to the least a
// broker can do. Each sample is a new connection and one round trip with pongd:
//   direct      connect RUNDIR/pong, one round trip;
//   raw broker  connect a minimal broker (a child process forked here: blocking accept, read the
//               LOOKUP frame, connect RUNDIR/pong, send "ok" with that fd by SCM_RIGHTS, close),
//               receive the fd, one round trip on it: the physical limit of brokering;
//   ipcd        LOOKUP on RUNDIR/ipc through libipc (ipc::connect with IPC_NETWORK naming pong),
//               the fd back from ipcd, one round trip on it.
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

bool read_all(int fd, char* data, std::size_t size) {
  while (size > 0) {
    const ssize_t n = ::read(fd, data, size);
    if (n <= 0) return false;
    data += n;
    size -= static_cast<std::size_t>(n);
  }
  return true;
}

// The minimal broker: no policy, no timeouts, no concurrency; just the syscalls a broker cannot
// avoid. Runs in a child process until the parent closes the listening socket's peer side.
[[noreturn]] void raw_broker(int listener, const std::string& service_path) {
  const sockaddr_un service = unix_address(service_path);
  for (;;) {
    const int client = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
    if (client < 0) ::_exit(0);
    char header[6];
    std::string payload;
    if (read_all(client, header, sizeof header)) {
      const std::uint32_t length = ipc::decode_header(header).length;
      payload.resize(std::min<std::uint32_t>(length, 4096));
      if (length <= 4096 && read_all(client, payload.data(), length)) {
        const int target = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (::connect(target, reinterpret_cast<const sockaddr*>(&service), sizeof service) == 0) {
          const char ok[8] = {2, 0, 0, 0, 2, 0, 'o', 'k'};
          iovec iov{const_cast<char*>(ok), sizeof ok};
          alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))]{};
          msghdr msg{};
          msg.msg_iov = &iov;
          msg.msg_iovlen = 1;
          msg.msg_control = control;
          msg.msg_controllen = sizeof control;
          cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
          cmsg->cmsg_level = SOL_SOCKET;
          cmsg->cmsg_type = SCM_RIGHTS;
          cmsg->cmsg_len = CMSG_LEN(sizeof(int));
          std::memcpy(CMSG_DATA(cmsg), &target, sizeof target);
          (void)::sendmsg(client, &msg, MSG_NOSIGNAL);
        }
        ::close(target);
      }
    }
    ::close(client);
  }
}

// The client side of the raw broker: connect, LOOKUP, the "ok" frame with the fd.
ipc::UniqueFd raw_lookup(const sockaddr_un& broker) {
  ipc::UniqueFd socket(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (::connect(socket.get(), reinterpret_cast<const sockaddr*>(&broker), sizeof broker) != 0)
    throw std::runtime_error("raw broker: connect failed");
  const std::string lookup = ipc::encode({ipc::MessageType::lookup, 0, "pong;"});
  if (::write(socket.get(), lookup.data(), lookup.size()) != static_cast<ssize_t>(lookup.size()))
    throw std::runtime_error("raw broker: write failed");
  char answer[8];
  iovec iov{answer, sizeof answer};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))]{};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  if (::recvmsg(socket.get(), &msg, MSG_CMSG_CLOEXEC | MSG_WAITALL) != sizeof answer)
    throw std::runtime_error("raw broker: no answer");
  const cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
  if (cmsg == nullptr || cmsg->cmsg_type != SCM_RIGHTS) throw std::runtime_error("raw broker: no fd");
  int fd;
  std::memcpy(&fd, CMSG_DATA(cmsg), sizeof fd);
  return ipc::UniqueFd(fd);
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
    direct_options.network = "";
    ipcd_options.network = "pong unix:pong";
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
