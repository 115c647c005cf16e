// websocketc: a WebSocket client for websocketd (DESIGN §13), built on Boost.Beast alone — no
// libipc — so it also shows what any other program must do to speak to the suite over
// WebSocket, and measures websocketd from the outside.
//
//   websocketc URL MESSAGE...      sends each message, prints the reply to each
//   websocketc URL                 the same for every line of stdin
//   websocketc URL -n COUNT        COUNT round trips of a generated message, each echo checked,
//                                  then the latency statistics
//
// With --subprotocol ipc.frame each message travels as one libipc DATA frame (6-byte header:
// type, length big-endian, user_type), encoded here by hand; with ipc.text (the default) or
// none it is the message itself.
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/program_options.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <iostream>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace po = boost::program_options;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

struct Options {
  std::string host, port, target;
  std::string subprotocol = "ipc.text";  // "" for none
  std::string origin;
  std::vector<std::string> messages;
  std::size_t count = 0;  // -n
  std::size_t size = 16;  // -s
  std::chrono::milliseconds timeout{10'000};
  bool quiet = false;
};

// A failure to report: "websocketc: what" and exit 1.
struct Failure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

constexpr std::size_t header_size = 6;
constexpr std::uint8_t type_error = 1, type_data = 2;

std::string encode_frame(std::uint8_t type, std::uint8_t user_type, const std::string& payload) {
  const auto n = static_cast<std::uint32_t>(payload.size());
  std::string frame{static_cast<char>(type), static_cast<char>(n >> 24), static_cast<char>(n >> 16),
                    static_cast<char>(n >> 8), static_cast<char>(n), static_cast<char>(user_type)};
  return frame + payload;
}

class Client {
 public:
  Client(asio::io_context& io, const Options& options) : ws_(io), options_(options) {}

  asio::awaitable<void> connect() {
    auto& stream = beast::get_lowest_layer(ws_);
    tcp::resolver resolver(ws_.get_executor());
    stream.expires_after(options_.timeout);
    const auto endpoints = co_await resolver.async_resolve(options_.host, options_.port, asio::use_awaitable);
    co_await stream.async_connect(endpoints, asio::use_awaitable);
    stream.socket().set_option(tcp::no_delay(true));
    ws_.set_option(websocket::stream_base::decorator([this](websocket::request_type& request) {
      request.set(http::field::user_agent, "websocketc (ipc)");
      if (!options_.subprotocol.empty()) request.set(http::field::sec_websocket_protocol, options_.subprotocol);
      if (!options_.origin.empty()) request.set(http::field::origin, options_.origin);
    }));
    websocket::response_type response;
    // Host as RFC 7230 writes it: an IPv6 address in brackets.
    const bool v6 = options_.host.find(':') != std::string::npos;
    const std::string host = (v6 ? "[" + options_.host + "]" : options_.host) + ":" + options_.port;
    auto [ec] = co_await ws_.async_handshake(response, host, options_.target,
                                             asio::as_tuple(asio::use_awaitable));
    if (ec) {
      std::string body = response.body();
      while (!body.empty() && (body.back() == '\n' || body.back() == '\r')) body.pop_back();
      if (response.result_int() != 0 && response.result() != http::status::switching_protocols)
        throw Failure("refused: HTTP " + std::to_string(response.result_int()) + (body.empty() ? "" : " " + body));
      throw Failure("handshake: " + ec.message());
    }
    if (!options_.subprotocol.empty() && response[http::field::sec_websocket_protocol] != options_.subprotocol)
      throw Failure("the server did not accept subprotocol " + options_.subprotocol);
    stream.expires_never();
    // No data for --timeout: the pending read fails with a timeout (no keep-alive pings: a
    // silent server is the failure we want to see).
    ws_.set_option(websocket::stream_base::timeout{options_.timeout, options_.timeout, false});
  }

  asio::awaitable<void> send(const std::string& message) {
    if (frames()) {
      frame_ = encode_frame(type_data, 0, message);
      ws_.binary(true);
      co_await ws_.async_write(asio::buffer(frame_), asio::use_awaitable);
    } else {
      ws_.text(true);
      co_await ws_.async_write(asio::buffer(message), asio::use_awaitable);
    }
  }

  // The next reply's payload.
  asio::awaitable<std::string> receive() {
    buffer_.clear();
    auto [ec, n] = co_await ws_.async_read(buffer_, asio::as_tuple(asio::use_awaitable));
    if (ec == websocket::error::closed) {
      const auto& reason = ws_.reason();
      throw Failure("closed by the server: " + std::to_string(reason.code) +
                    (reason.reason.empty() ? "" : " " + std::string(reason.reason.data(), reason.reason.size())));
    }
    if (ec == beast::error::timeout) throw Failure("no reply within the timeout");
    if (ec) throw Failure("read: " + ec.message());
    std::string bytes = beast::buffers_to_string(buffer_.data());
    if (!frames()) co_return bytes;
    if (bytes.size() < header_size) throw Failure("ipc.frame message shorter than a frame header");
    const auto* h = reinterpret_cast<const unsigned char*>(bytes.data());
    const std::uint32_t length = (std::uint32_t{h[1]} << 24) | (std::uint32_t{h[2]} << 16) | (std::uint32_t{h[3]} << 8) | h[4];
    if (length != bytes.size() - header_size) throw Failure("ipc.frame message is not exactly one frame");
    std::string payload = bytes.substr(header_size);
    if (h[0] == type_error) throw Failure(payload);  // "code: text" from the service or ipcd
    if (h[0] != type_data) throw Failure("unexpected frame type " + std::to_string(h[0]));
    co_return payload;
  }

  asio::awaitable<void> close() {
    auto [ec] = co_await ws_.async_close(websocket::close_code::normal, asio::as_tuple(asio::use_awaitable));
    (void)ec;  // the server may already be gone; nothing left to report
  }

 private:
  [[nodiscard]] bool frames() const noexcept { return options_.subprotocol == "ipc.frame"; }

  websocket::stream<beast::tcp_stream> ws_;
  const Options& options_;
  beast::flat_buffer buffer_;
  std::string frame_;
};

double micros(Clock::duration d) { return std::chrono::duration<double, std::micro>(d).count(); }

asio::awaitable<void> run(asio::io_context& io, const Options& options, int& status) {
  Client client(io, options);
  co_await client.connect();
  if (options.count > 0) {
    std::vector<Clock::duration> times;
    times.reserve(options.count);
    std::string message(options.size, 'x');
    for (std::size_t i = 0; i < options.count; ++i) {
      // A different message each time, so an echo of an earlier one is caught.
      const auto tag = std::to_string(i);
      std::copy_n(tag.begin(), std::min(tag.size(), message.size()), message.begin());
      const auto start = Clock::now();
      co_await client.send(message);
      const auto reply = co_await client.receive();
      times.push_back(Clock::now() - start);
      if (reply != message) throw Failure("round trip " + std::to_string(i + 1) + ": the echo differs from the message");
    }
    std::sort(times.begin(), times.end());
    const auto at = [&](double q) { return micros(times[std::min(times.size() - 1, static_cast<std::size_t>(q * times.size()))]); };
    std::printf("%zu round trips of %zu bytes (%s): median %.1f us, p99 %.1f us, max %.1f us\n", times.size(),
                options.size, options.subprotocol.empty() ? "no subprotocol" : options.subprotocol.c_str(), at(0.5),
                at(0.99), micros(times.back()));
  } else if (!options.messages.empty()) {
    for (const auto& message : options.messages) {
      co_await client.send(message);
      const auto reply = co_await client.receive();
      if (!options.quiet) std::cout << reply << std::endl;
    }
  } else {
    // Lines from stdin, one reply each. Blocking on stdin is fine: nothing else runs meanwhile.
    std::string line;
    while (std::getline(std::cin, line)) {
      co_await client.send(line);
      const auto reply = co_await client.receive();
      if (!options.quiet) std::cout << reply << std::endl;
    }
  }
  co_await client.close();
  status = 0;
}

// ws://HOST[:PORT]/PATH
bool parse_url(const std::string& url, Options& options) {
  const std::string scheme = "ws://";
  if (url.compare(0, scheme.size(), scheme) != 0) return false;
  auto rest = url.substr(scheme.size());
  const auto slash = rest.find('/');
  options.target = slash == std::string::npos ? "/" : rest.substr(slash);
  auto authority = rest.substr(0, slash);
  if (authority.empty()) return false;
  options.port = "80";
  if (authority.front() == '[') {
    const auto close = authority.find(']');
    if (close == std::string::npos) return false;
    options.host = authority.substr(1, close - 1);
    if (close + 1 < authority.size()) {
      if (authority[close + 1] != ':') return false;
      options.port = authority.substr(close + 2);
    }
  } else {
    const auto colon = authority.rfind(':');
    options.host = authority.substr(0, colon);
    if (colon != std::string::npos) options.port = authority.substr(colon + 1);
  }
  return !options.host.empty() && !options.port.empty() &&
         options.port.find_first_not_of("0123456789") == std::string::npos;
}

[[noreturn]] void bad_flags(const std::string& why) {
  std::cerr << "websocketc: " << why << "\n";
  std::exit(2);
}

}  // namespace

int main(int argc, char* argv[]) {
  Options options;
  po::options_description flags("Options");
  flags.add_options()
      ("help,h", "print this help and exit")
      ("version", "print the version and exit")
      ("subprotocol", po::value<std::string>()->value_name("NAME")->default_value("ipc.text"),
       "ipc.text (a message is the payload), ipc.frame (a message is one libipc frame) or none")
      (",n", po::value<std::size_t>()->value_name("COUNT"), "COUNT round trips of a generated message, each echo checked; prints latency")
      (",s", po::value<std::size_t>()->value_name("SIZE")->default_value(16), "size of the generated message for -n")
      ("origin", po::value<std::string>()->value_name("ORIGIN"), "send this Origin header (as a browser page would)")
      ("timeout", po::value<double>()->value_name("SECONDS")->default_value(10), "deadline for connecting and for each reply")
      ("quiet,q", "do not print the replies");
  po::options_description hidden;
  hidden.add_options()("url", po::value<std::string>())("message", po::value<std::vector<std::string>>());
  po::options_description all;
  all.add(flags).add(hidden);
  po::positional_options_description positional;
  positional.add("url", 1).add("message", -1);
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(argc, argv).options(all).positional(positional).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    bad_flags(std::string(e.what()) + " (see --help)");
  }
  if (vm.count("help")) {
    std::cout << "Usage: websocketc [OPTIONS] URL [MESSAGE...]\n\n"
                 "A WebSocket client for websocketd, without libipc. Sends each MESSAGE (else each line of\n"
                 "stdin) to URL (ws://HOST[:PORT]/SERVICE) and prints the reply to each; with -n, COUNT\n"
                 "checked round trips and their latency. Exit status 0 when every reply came (and every\n"
                 "echo matched), 1 on any failure, 2 on bad flags.\n\n"
              << flags << "\nExample:\n  websocketc ws://127.0.0.1:8080/pong hello\n  websocketc -n 10000 ws://127.0.0.1:8080/pong\n";
    return 0;
  }
  if (vm.count("version")) {
    std::cout << "websocketc (ipc suite) 0.1.0" << std::endl;
    return 0;
  }
  if (!vm.count("url")) bad_flags("missing URL (see --help)");
  if (!parse_url(vm["url"].as<std::string>(), options))
    bad_flags("invalid URL '" + vm["url"].as<std::string>() + "' (expected ws://HOST[:PORT]/SERVICE)");
  options.subprotocol = vm["subprotocol"].as<std::string>();
  if (options.subprotocol == "none") options.subprotocol.clear();
  else if (options.subprotocol != "ipc.text" && options.subprotocol != "ipc.frame")
    bad_flags("invalid --subprotocol '" + options.subprotocol + "' (expected ipc.text, ipc.frame or none)");
  if (vm.count("message")) options.messages = vm["message"].as<std::vector<std::string>>();
  if (vm.count("-n")) {
    options.count = vm["-n"].as<std::size_t>();
    if (options.count == 0) bad_flags("-n: must be at least 1");
    if (!options.messages.empty()) bad_flags("-n generates its message: give no MESSAGE");
  }
  options.size = vm["-s"].as<std::size_t>();
  if (options.size == 0 || options.size > (1u << 30)) bad_flags("-s: between 1 and 1073741824");
  if (vm.count("origin")) options.origin = vm["origin"].as<std::string>();
  if (vm.count("quiet")) options.quiet = true;
  const double seconds = vm["timeout"].as<double>();
  if (!(seconds > 0) || seconds > 86400) bad_flags("--timeout: between 0 and 86400 seconds");
  options.timeout = std::chrono::milliseconds(static_cast<long long>(seconds * 1000));

  asio::io_context io;
  int status = 1;
  asio::co_spawn(io, run(io, options, status), [&](std::exception_ptr e) {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const Failure& failure) {
      std::cerr << "websocketc: " << failure.what() << "\n";
    } catch (const boost::system::system_error& error) {
      std::cerr << "websocketc: " << options.host << ":" << options.port << ": " << error.code().message() << "\n";
    } catch (const std::exception& other) {
      std::cerr << "websocketc: " << other.what() << "\n";
    }
    status = 1;
  });
  io.run();
  return status;
}
