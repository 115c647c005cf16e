// connect_cost: what opening a connection to a remote service costs, per URI. Each sample is a
// new connection through ipcd and the protocol daemons (LOOKUP, CONNECT, TCP, for tls:// the TLS
// handshake, the remote handshake, INBOUND, the fd back) and one round trip on it, so the
// difference between two URIs to the same service is the difference of their handshakes.
//   connect_cost [-n COUNT] URI...   (IPC_RUNDIR with ipcd and the protocol daemons running)
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ipc/client.hpp>
#include <ipc/uri.hpp>
#include <string>
#include <vector>

int main(int argc, char* argv[]) {
  long count = 500;
  int first = 1;
  if (argc >= 3 && std::strcmp(argv[1], "-n") == 0) {
    count = std::max(1L, std::atol(argv[2]));
    first = 3;
  }
  if (first >= argc) {
    std::fprintf(stderr, "usage: connect_cost [-n COUNT] URI...\n");
    return 2;
  }
  const auto request = ipc::Message::data("ping");
  try {
    for (int u = first; u < argc; ++u) {
      const ipc::Uri uri = ipc::Uri::parse(argv[u]);
      ipc::ConnectOptions options;
      options.network = uri.service().str() + " " + argv[u];
      std::vector<double> micros;
      for (long i = 0; i < count; ++i) {
        const auto t0 = std::chrono::steady_clock::now();
        ipc::Client client(ipc::connect(uri.service(), options));
        client.send(request);
        if (client.receive() != request) throw std::runtime_error("bad echo");
        micros.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count());
      }
      std::sort(micros.begin(), micros.end());
      std::printf("%-60s connect + 1 round trip: median %8.1f us  p99 %8.1f us  (%ld connections)\n",
                  uri.str().c_str(), micros[micros.size() / 2],
                  micros[static_cast<std::size_t>(0.99 * static_cast<double>(micros.size() - 1))], count);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "connect_cost: %s\n", e.what());
    return 1;
  }
  return 0;
}
