// loadgen: the load generator of scripts/bench, on libipc (and Beast for WebSocket peers).
//
//   loadgen rtt  [--clients C] [--count N] [--seconds S] [--size B] [SERVICE]
//       C clients at once, each on its own connection (ipc::async_connect: IPC_RUNDIR and
//       IPC_NETWORK apply, so a routed service goes through ipcd and tcpd), each making round
//       trips back to back until it has made N or S seconds have passed. Every echo is checked.
//   loadgen hold [--connections N] [--seconds S] [SERVICE]
//       opens N connections one after the other, one checked round trip on each, prints
//       {"held": N}, then keeps them open and idle until stdin reaches EOF or S seconds have
//       passed since the start.
//   loadgen ws-hold [--connections N] [--seconds S] ws://HOST:PORT/SERVICE
//       the same over WebSocket (subprotocol ipc.text).
//
// Each mode prints one JSON line on stdout. Every loop is bounded in count and in time (and the
// whole process by an alarm 30 s past --seconds), and the peers are whatever the caller names
// (scripts/bench: loopback only). Exit 1 on any failure.
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <chrono>
#include <cstdio>
#include <ipc/client.hpp>
#include <ipc/command_line.hpp>
#include <ipc/connection.hpp>
#include <ipc/error.hpp>
#include <ipc/uri.hpp>
#include <iostream>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

namespace asio = ipc::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using Clock = std::chrono::steady_clock;

std::string make_payload(std::size_t size) {
  std::string payload(size, '\0');
  for (std::size_t i = 0; i < size; ++i) payload[i] = static_cast<char>('a' + (i * 7 + i / 251) % 26);
  return payload;
}

double percentile(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  return sorted[std::min(sorted.size() - 1, static_cast<std::size_t>(p * static_cast<double>(sorted.size() - 1) + 0.5))];
}

// ---- rtt: many clients at once, one io_context, one coroutine per client -------------------

struct RttRun {
  ipc::ServiceName service;
  ipc::ConnectOptions connect;
  ipc::Message request;
  long count;
  Clock::time_point deadline;
  std::vector<double> micros;  // every round trip of every client
  long failures = 0;
  std::string first_failure;
};

asio::awaitable<void> rtt_client(RttRun& run) {
  try {
    ipc::Connection connection(co_await ipc::async_connect(run.service, run.connect));
    ipc::Message reply;
    for (long i = 0; i < run.count && Clock::now() < run.deadline; ++i) {
      const auto t0 = Clock::now();
      if (!co_await connection.send(run.request)) throw std::runtime_error("the service went away");
      if (!co_await connection.receive(reply, run.connect.timeout)) throw std::runtime_error("the service closed");
      run.micros.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
      if (reply.type == ipc::MessageType::error) throw ipc::Error::from_payload(reply.payload);
      if (reply != run.request) throw std::runtime_error("an echo differs from what was sent");
    }
    connection.close();
  } catch (const std::exception& e) {
    if (run.failures++ == 0) run.first_failure = e.what();
  }
}

int rtt(const ipc::ServiceName& service, const ipc::ConnectOptions& connect, long clients, long count,
        double seconds, std::size_t size) {
  RttRun run{service, connect, ipc::Message::data(make_payload(size)), count,
             Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds)),
             {}, 0, {}};
  run.micros.reserve(static_cast<std::size_t>(std::min(clients * count, 50'000'000L)));
  asio::io_context io(1);
  const auto started = Clock::now();
  for (long c = 0; c < clients; ++c) asio::co_spawn(io, rtt_client(run), asio::detached);
  io.run();
  const double elapsed = std::chrono::duration<double>(Clock::now() - started).count();
  if (run.failures > 0) {
    std::cerr << "loadgen: " << run.failures << " of " << clients << " clients failed: " << run.first_failure << "\n";
    return 1;
  }
  std::sort(run.micros.begin(), run.micros.end());
  std::printf(
      "{\"clients\": %ld, \"size\": %zu, \"round_trips\": %zu, \"seconds\": %.6f, \"per_second\": %.1f, "
      "\"median_us\": %.2f, \"p99_us\": %.2f}\n",
      clients, size, run.micros.size(), elapsed, static_cast<double>(run.micros.size()) / elapsed,
      percentile(run.micros, 0.5), percentile(run.micros, 0.99));
  return 0;
}

// ---- hold: many idle connections ----------------------------------------------------------

// When the run started: --seconds counts from here, for every mode.
const Clock::time_point started_at = Clock::now();

// Waits until stdin reaches EOF (the caller is done measuring) or --seconds after the start.
void wait_for_release(double seconds) {
  const auto deadline =
      started_at + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  char scratch[256];
  while (Clock::now() < deadline) {
    pollfd p{STDIN_FILENO, POLLIN, 0};
    const int left = static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count());
    if (::poll(&p, 1, std::max(left, 1)) > 0 && ::read(STDIN_FILENO, scratch, sizeof scratch) <= 0) return;
  }
}

int hold(const ipc::ServiceName& service, const ipc::ConnectOptions& connect, long connections, double seconds) {
  const auto request = ipc::Message::data("idle");
  std::vector<ipc::Client> held;
  held.reserve(static_cast<std::size_t>(connections));
  for (long i = 0; i < connections; ++i) {
    auto client = ipc::Client::connect(service, connect);
    client.send(request);
    if (client.receive() != request) throw std::runtime_error("connection " + std::to_string(i + 1) + ": bad echo");
    held.push_back(std::move(client));
  }
  std::printf("{\"held\": %zu}\n", held.size());
  std::fflush(stdout);
  wait_for_release(seconds);
  return 0;
}

int ws_hold(const ipc::Uri& uri, long connections, double seconds) {
  if (uri.scheme() != ipc::Scheme::ws) throw std::invalid_argument("ws-hold takes a ws:// URI");
  asio::io_context io(1);
  asio::ip::tcp::resolver resolver(io);
  const auto endpoints = resolver.resolve(uri.host(), std::to_string(uri.port()));
  using Ws = websocket::stream<asio::ip::tcp::socket>;
  std::vector<std::unique_ptr<Ws>> held;
  held.reserve(static_cast<std::size_t>(connections));
  const std::string request = "idle";
  beast::flat_buffer buffer;
  for (long i = 0; i < connections; ++i) {
    auto ws = std::make_unique<Ws>(io);
    asio::connect(ws->next_layer(), endpoints);
    ws->set_option(websocket::stream_base::decorator([](websocket::request_type& req) {
      req.set(beast::http::field::sec_websocket_protocol, "ipc.text");
    }));
    ws->handshake(uri.host() + ":" + std::to_string(uri.port()), "/" + uri.service().str());
    ws->text(true);
    ws->write(asio::buffer(request));
    buffer.clear();
    ws->read(buffer);
    if (beast::buffers_to_string(buffer.data()) != request)
      throw std::runtime_error("connection " + std::to_string(i + 1) + ": bad echo");
    held.push_back(std::move(ws));
  }
  std::printf("{\"held\": %zu}\n", held.size());
  std::fflush(stdout);
  wait_for_release(seconds);
  return 0;
}

}  // namespace

int main(int argc, char* argv[]) {
  ipc::CommandLine command_line(
      "loadgen", "rtt|hold|ws-hold [OPTIONS] [SERVICE|URL]",
      "The load generator of scripts/bench. rtt: --clients clients at once make round trips\n"
      "back to back; hold: --connections idle connections held until stdin closes;\n"
      "ws-hold: the same over WebSocket to a ws:// URL. Prints one JSON line.");
  command_line.options().add_options()
      ("mode", ipc::po::value<std::string>(), "rtt, hold or ws-hold (the 1st argument)")
      ("target", ipc::po::value<std::string>()->default_value("pong"), "service, or ws:// URL (the 2nd argument)")
      ("clients,c", ipc::po::value<long>()->value_name("C")->default_value(1), "rtt: clients at once")
      ("count,n", ipc::po::value<long>()->value_name("N")->default_value(10000), "rtt: round trips per client at most")
      ("size,s", ipc::po::value<std::size_t>()->value_name("BYTES")->default_value(64), "rtt: payload bytes")
      ("connections", ipc::po::value<long>()->value_name("N")->default_value(1000), "hold, ws-hold: connections")
      ("seconds", ipc::po::value<double>()->value_name("S")->default_value(60), "bound on the run's duration");
  command_line.add_positional("mode", 1);
  command_line.add_positional("target", 1);
  command_line.set_epilog("Environment: IPC_RUNDIR, IPC_NETWORK. Exit status: 0 ok, 1 a failure, 2 bad flags.\n");
  const auto flags = command_line.parse(argc, argv);
  if (!flags.count("mode")) command_line.fail("a mode is needed: rtt, hold or ws-hold");
  const auto mode = flags["mode"].as<std::string>();
  const auto target = flags["target"].as<std::string>();
  const long clients = flags["clients"].as<long>(), count = flags["count"].as<long>();
  const long connections = flags["connections"].as<long>();
  const double seconds = flags["seconds"].as<double>();
  const std::size_t size = flags["size"].as<std::size_t>();
  if (clients < 1 || clients > 100'000) command_line.fail("--clients: from 1 to 100000");
  if (count < 1) command_line.fail("--count: at least 1");
  if (connections < 1 || connections > 1'000'000) command_line.fail("--connections: from 1 to 1000000");
  if (!(seconds > 0) || seconds > 3600) command_line.fail("--seconds: more than 0, at most 3600");
  if (size > ipc::default_max_payload) command_line.fail("--size: at most " + std::to_string(ipc::default_max_payload));
  // The whole run is bounded in time, whatever a peer does (the blocking WebSocket handshake of
  // ws-hold has no deadline of its own): SIGALRM ends the process half a minute past --seconds.
  ::alarm(static_cast<unsigned>(seconds) + 30);
  try {
    if (mode == "ws-hold") return ws_hold(ipc::Uri::parse(target), connections, seconds);
    if (auto why = ipc::ServiceName::why_invalid(target); !why.empty()) command_line.fail(why);
    ipc::ConnectOptions connect;
    connect.rundir = command_line.common().rundir;
    if (mode == "rtt") return rtt(ipc::ServiceName(target), connect, clients, count, seconds, size);
    if (mode == "hold") return hold(ipc::ServiceName(target), connect, connections, seconds);
    command_line.fail("unknown mode '" + mode + "': rtt, hold or ws-hold");
  } catch (const std::exception& e) {
    std::cerr << "loadgen: " << mode << " " << target << ": " << e.what() << "\n";
    return 1;
  }
}
