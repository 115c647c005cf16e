// lookup_cost: what a connection through ipcd costs next to a direct one. Each sample is a new
// connection and one round trip: (a) connect RUNDIR/pong directly; (b) LOOKUP on RUNDIR/ipc,
// the fd back from ipcd (SCM_RIGHTS), then the round trip on it.
//   lookup_cost [-n COUNT]   (IPC_RUNDIR with ipcd and pongd running)
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ipc/client.hpp>
#include <string>
#include <vector>

namespace {

double median_micros(const char* label, long count, const std::optional<std::string>& network) {
  std::vector<double> micros;
  const auto request = ipc::Message::data("ping");
  for (long i = 0; i < count; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    ipc::ConnectOptions options;
    options.network = network.value_or("");
    ipc::Client client(ipc::connect(ipc::ServiceName("pong"), options));
    client.send(request);
    if (client.receive() != request) throw std::runtime_error("bad echo");
    micros.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(micros.begin(), micros.end());
  const double median = micros[micros.size() / 2];
  std::printf("%-44s median %7.1f us  p99 %7.1f us  (%ld connections)\n", label, median,
              micros[static_cast<std::size_t>(0.99 * static_cast<double>(micros.size() - 1))], count);
  return median;
}

}  // namespace

int main(int argc, char* argv[]) {
  long count = 2000;
  if (argc == 3 && std::strcmp(argv[1], "-n") == 0) count = std::atol(argv[2]);
  try {
    const double direct = median_micros("direct connect + 1 round trip", count, std::nullopt);
    const double through = median_micros("lookup through ipcd + fd back + 1 round trip", count, "pong unix:pong");
    std::printf("ratio %.2f\n", through / direct);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "lookup_cost: %s\n", e.what());
    return 1;
  }
  return 0;
}
