// Unit tests for the service side (ipc::Service, ListeningSocket) and the blocking client
// (ipc::Client, ipc::connect) in one process: the service's io_context runs on a background
// thread, the test talks to it as a client. Every wait is a blocking call with a timeout.
#include <gtest/gtest.h>
#include <sys/time.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <functional>
#include <fstream>
#include <ipc/client.hpp>
#include <ipc/connection.hpp>
#include <ipc/error.hpp>
#include <ipc/listener.hpp>
#include <ipc/service.hpp>
#include <iterator>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>
#include <optional>

namespace {

namespace fs = std::filesystem;
namespace asio = ipc::asio;
using namespace std::chrono_literals;
using ipc::Message;
using ipc::ServiceName;

class TempDir {
 public:
  TempDir() {
    char templ[] = "/tmp/ipc-unit-XXXXXX";
    if (::mkdtemp(templ) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = templ;
  }
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  [[nodiscard]] const fs::path& path() const noexcept { return path_; }

 private:
  fs::path path_;
};

// Echoes every frame back until the client leaves.
asio::awaitable<void> echo(ipc::Connection& connection) {
  Message m;
  while (co_await connection.receive(m)) {
    if (!co_await connection.send(m)) co_return;
  }
}

// Answers the first frame with an ipc::Error, which the service turns into an ERROR frame.
asio::awaitable<void> deny(ipc::Connection& connection) {
  Message m;
  if (co_await connection.receive(m)) throw ipc::Error(ipc::ErrorCode::denied, "not for you: " + m.payload);
}

// An ipc::Service serving one name, its io_context on a background thread.
class RunningService {
 public:
  RunningService(const fs::path& rundir, const ServiceName& name, ipc::Service::Handler handler,
                 ipc::ServiceOptions options = {})
      : service_(io_, rundir, options) {
    service_.listen(name, std::move(handler));  // bound before the constructor returns
    thread_ = std::thread([this] { io_.run(); });
  }
  ~RunningService() {
    asio::post(io_, [this] { service_.stop(); });
    thread_.join();
  }
  RunningService(const RunningService&) = delete;
  RunningService& operator=(const RunningService&) = delete;

 private:
  asio::io_context io_;
  ipc::Service service_;
  std::thread thread_;
};

ipc::ConnectOptions options_for(const TempDir& dir) {
  ipc::ConnectOptions options;
  options.rundir = dir.path();
  options.timeout = 10s;
  return options;
}

template <typename F>
ipc::Error expect_error(F&& f) {
  try {
    f();
  } catch (const ipc::Error& e) {
    return e;
  }
  ADD_FAILURE() << "no ipc::Error thrown";
  return ipc::Error(ipc::ErrorCode::internal, "none");
}

template <typename F>
std::string runtime_error_of(F&& f) {
  try {
    f();
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  ADD_FAILURE() << "no std::runtime_error thrown";
  return {};
}

// A socket file nobody answers on: bound, then closed without unlink.
void make_stale_socket(const fs::path& path) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
  ASSERT_EQ(::bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr), 0) << std::strerror(errno);
  ::close(fd);
  struct stat st{};
  ASSERT_EQ(::lstat(path.c_str(), &st), 0);
  ASSERT_TRUE(S_ISSOCK(st.st_mode));
}

// Connects to `path` (a listener nobody accepts on) until its backlog is full; the connections
// that got in are returned, so that it stays full while they live.
std::vector<ipc::UniqueFd> fill_backlog(const fs::path& path) {
  std::vector<ipc::UniqueFd> fillers;
  for (int i = 0; i < 64; ++i) {
    ipc::UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
    if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
      EXPECT_EQ(errno, EAGAIN) << std::strerror(errno);
      return fillers;
    }
    fillers.push_back(std::move(fd));
  }
  ADD_FAILURE() << "the backlog of " << path << " never filled up";
  return fillers;
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

TEST(ClientService, EchoesAFrameRoundTrip) {
  TempDir dir;
  RunningService service(dir.path(), ServiceName("echo"), echo);
  auto client = ipc::Client::connect(ServiceName("echo"), options_for(dir));
  client.send(Message::data("hello", 42));
  EXPECT_EQ(client.receive(), Message::data("hello", 42));
}

TEST(ClientService, EchoesManyFramesOfEveryKnownTypeInOrder) {
  TempDir dir;
  RunningService service(dir.path(), ServiceName("echo"), echo);
  auto client = ipc::Client::connect(ServiceName("echo"), options_for(dir));
  for (int i = 0; i < 7; ++i) {
    client.send({static_cast<ipc::MessageType>(i), static_cast<std::uint8_t>(255 - i), std::string(i, 'e')});
  }
  for (int i = 0; i < 7; ++i) {
    EXPECT_EQ(client.receive(),
              (Message{static_cast<ipc::MessageType>(i), static_cast<std::uint8_t>(255 - i), std::string(i, 'e')}));
  }
}

TEST(ClientService, EchoesAnEmptyAndAOneMebibyteFrame) {
  TempDir dir;
  RunningService service(dir.path(), ServiceName("echo"), echo);
  auto client = ipc::Client::connect(ServiceName("echo"), options_for(dir));
  client.send(Message::data(""));
  EXPECT_EQ(client.receive(), Message::data(""));
  std::string big(1024 * 1024, '\0');
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i % 251);
  client.send(Message::data(big, 1));
  EXPECT_EQ(client.receive(), Message::data(big, 1));
}

TEST(ClientService, ServesSeveralClientsAtOnce) {
  TempDir dir;
  RunningService service(dir.path(), ServiceName("echo"), echo);
  auto a = ipc::Client::connect(ServiceName("echo"), options_for(dir));
  auto b = ipc::Client::connect(ServiceName("echo"), options_for(dir));
  a.send(Message::data("from a"));
  b.send(Message::data("from b"));
  EXPECT_EQ(b.receive().payload, "from b");
  EXPECT_EQ(a.receive().payload, "from a");
}

TEST(ClientService, SendsAnErrorTheHandlerThrowsAsAnErrorFrame) {
  TempDir dir;
  RunningService service(dir.path(), ServiceName("deny"), deny);
  auto client = ipc::Client::connect(ServiceName("deny"), options_for(dir));
  client.send(Message::data("x"));
  EXPECT_EQ(client.receive(), Message::error("denied: not for you: x"));
  EXPECT_EQ(expect_error([&] { (void)client.receive(); }).code(), ipc::ErrorCode::unavailable);
}

TEST(ClientService, RefusesAnUnknownMessageTypeWithBadRequest) {
  TempDir dir;
  RunningService service(dir.path(), ServiceName("echo"), echo);
  auto client = ipc::Client::connect(ServiceName("echo"), options_for(dir));
  client.send({static_cast<ipc::MessageType>(200), 0, "?"});
  const Message answer = client.receive();
  EXPECT_EQ(answer.type, ipc::MessageType::error);
  EXPECT_EQ(answer.payload, "bad-request: unknown message type 200");
}

TEST(ClientService, TooLargeFrameGetsAnErrorAndEofWhileOtherClientsGoOn) {
  TempDir dir;
  ipc::ServiceOptions options;
  options.limits.max_payload = 1024;
  RunningService service(dir.path(), ServiceName("echo"), echo, options);
  auto good = ipc::Client::connect(ServiceName("echo"), options_for(dir));
  good.send(Message::data("before"));
  EXPECT_EQ(good.receive().payload, "before");

  auto bad = ipc::Client::connect(ServiceName("echo"), options_for(dir));
  bad.send(Message::data(std::string(1025, 'x')));
  const Message answer = bad.receive();
  EXPECT_EQ(answer.type, ipc::MessageType::error);
  EXPECT_EQ(answer.payload.rfind("too-large", 0), 0u) << answer.payload;
  EXPECT_NE(answer.payload.find("1025"), std::string::npos) << answer.payload;
  EXPECT_EQ(expect_error([&] { (void)bad.receive(); }).code(), ipc::ErrorCode::unavailable);

  good.send(Message::data("after"));
  EXPECT_EQ(good.receive().payload, "after");
  // A new client is served too.
  auto late = ipc::Client::connect(ServiceName("echo"), options_for(dir));
  late.send(Message::data("late"));
  EXPECT_EQ(late.receive().payload, "late");
}

TEST(ClientService, TooLargeHeaderAloneGetsAnErrorThenACleanEof) {
  TempDir dir;
  RunningService service(dir.path(), ServiceName("echo"), echo);  // default 16 MiB limit
  const auto fd = ipc::connect(ServiceName("echo"), options_for(dir));
  std::array<std::uint8_t, ipc::header_size> header{};
  ipc::encode_header(header, ipc::MessageType::data, 0xFFFFFFFFu, 0);
  ASSERT_EQ(::write(fd.get(), header.data(), header.size()), static_cast<ssize_t>(header.size()));
  const auto answer = ipc::recv_frame_with_fd(fd.get(), ipc::default_max_payload, 10000);
  EXPECT_EQ(answer.message.type, ipc::MessageType::error);
  EXPECT_EQ(answer.message.payload.rfind("too-large: ", 0), 0u) << answer.message.payload;
  char c;
  EXPECT_EQ(::recv(fd.get(), &c, 1, 0), 0);  // EOF (the socket is blocking)
}

TEST(ClientService, ConnectToAMissingServiceIsNotFound) {
  TempDir dir;
  auto e = expect_error([&] { (void)ipc::connect(ServiceName("nobody"), options_for(dir)); });
  EXPECT_EQ(e.code(), ipc::ErrorCode::not_found);
  EXPECT_NE(e.text().find((dir.path() / "nobody").string()), std::string::npos) << e.what();
  e = expect_error([&] { (void)ipc::Client::connect(ServiceName("nobody"), options_for(dir)); });
  EXPECT_EQ(e.code(), ipc::ErrorCode::not_found);
}

// Runs ipc::async_connect on a fresh io_context and returns the error it throws.
ipc::Error async_connect_error(const ServiceName& name, const ipc::ConnectOptions& options) {
  asio::io_context io;
  std::optional<ipc::Error> error;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        try {
          auto socket = co_await ipc::async_connect(name, options);
        } catch (const ipc::Error& e) {
          error = e;
        }
      },
      asio::detached);
  io.run_for(10s);
  if (!error) {
    ADD_FAILURE() << "async_connect did not throw ipc::Error";
    return ipc::Error(ipc::ErrorCode::internal, "none");
  }
  return *error;
}

TEST(ClientService, AsyncConnectToAMissingServiceIsNotFound) {
  TempDir dir;
  const auto e = async_connect_error(ServiceName("nobody"), options_for(dir));
  EXPECT_EQ(e.code(), ipc::ErrorCode::not_found) << e.what();
}

TEST(ClientService, AsyncConnectToAStaleSocketIsNotFound) {
  TempDir dir;
  make_stale_socket(dir.path() / "stale");
  const auto e = async_connect_error(ServiceName("stale"), options_for(dir));
  EXPECT_EQ(e.code(), ipc::ErrorCode::not_found) << e.what();
}

TEST(ClientService, AsyncConnectReachesARunningService) {
  TempDir dir;
  RunningService service(dir.path(), ServiceName("echo"), echo);
  asio::io_context io;
  std::string answer;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        ipc::Connection connection(co_await ipc::async_connect(ServiceName("echo"), options_for(dir)));
        co_await connection.send(Message::data("async"));
        Message m;
        if (co_await connection.receive(m)) answer = m.payload;
      },
      asio::detached);
  io.run_for(10s);
  EXPECT_EQ(answer, "async");
}

TEST(ClientService, ConnectToAStaleSocketIsNotFound) {
  TempDir dir;
  make_stale_socket(dir.path() / "stale");
  const auto e = expect_error([&] { (void)ipc::connect(ServiceName("stale"), options_for(dir)); });
  EXPECT_EQ(e.code(), ipc::ErrorCode::not_found);
}

TEST(ClientService, ConnectToAnOverlongPathIsBadRequest) {
  const auto e = expect_error([&] { (void)ipc::connect_unix(fs::path("/tmp") / std::string(200, 'p'), 1s); });
  EXPECT_EQ(e.code(), ipc::ErrorCode::bad_request);
}

TEST(ClientService, ClientGetsUnavailableWhenTheServiceCloses) {
  TempDir dir;
  std::optional<ipc::Client> client;
  {
    RunningService service(dir.path(), ServiceName("echo"), echo);
    client.emplace(ipc::Client::connect(ServiceName("echo"), options_for(dir)));
    client->send(Message::data("x"));
    EXPECT_EQ(client->receive().payload, "x");
  }
  EXPECT_EQ(expect_error([&] { (void)client->receive(); }).code(), ipc::ErrorCode::unavailable);
}

TEST(ClientService, ClientReceiveTimesOut) {
  TempDir dir;
  RunningService service(dir.path(), ServiceName("echo"), echo);
  auto client = ipc::Client::connect(ServiceName("echo"), options_for(dir));
  client.set_timeout(100ms);
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(expect_error([&] { (void)client.receive(); }).code(), ipc::ErrorCode::timeout);
  EXPECT_GE(std::chrono::steady_clock::now() - start, 90ms);
}

TEST(ClientService, ConnectLeavesNoSendTimeoutOnTheSocket) {
  // The deadline of the connect itself is a send timeout; what the caller gets has none, so its
  // own blocking send() to a slow reader waits instead of failing after a millisecond.
  TempDir dir;
  RunningService service(dir.path(), ServiceName("echo"), echo);
  auto options = options_for(dir);
  options.direct = true;
  const ipc::UniqueFd fd = ipc::connect(ServiceName("echo"), options);
  timeval tv{1, 1};
  socklen_t len = sizeof tv;
  ASSERT_EQ(::getsockopt(fd.get(), SOL_SOCKET, SO_SNDTIMEO, &tv, &len), 0);
  EXPECT_EQ(tv.tv_sec, 0);
  EXPECT_EQ(tv.tv_usec, 0);
}

// Runs `body` as a coroutine on a fresh io_context, for at most 10 s.
void run_coroutine(std::function<asio::awaitable<void>()> body) {
  asio::io_context io;
  bool finished = false;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        co_await body();
        finished = true;
      },
      [](std::exception_ptr e) {
        if (e) std::rethrow_exception(e);
      });
  io.run_for(10s);
  EXPECT_TRUE(finished) << "the coroutine did not finish within 10 s";
}

TEST(ClientService, AsyncConnectUnixFdGivesABlockingConnectedSocket) {
  TempDir dir;
  RunningService service(dir.path(), ServiceName("echo"), echo);
  ipc::UniqueFd fd;
  run_coroutine([&]() -> asio::awaitable<void> { fd = co_await ipc::async_connect_unix_fd(dir.path() / "echo", 5s); });
  ASSERT_TRUE(fd);
  const int flags = ::fcntl(fd.get(), F_GETFL);
  ASSERT_GE(flags, 0);
  EXPECT_EQ(flags & O_NONBLOCK, 0);
  EXPECT_NE(::fcntl(fd.get(), F_GETFD) & FD_CLOEXEC, 0);
  ipc::Client client(std::move(fd));
  client.send(Message::data("handed on"));
  EXPECT_EQ(client.receive(), Message::data("handed on"));
}

TEST(ClientService, AsyncConnectUnixFdToAMissingOrStaleSocketIsNotFound) {
  TempDir dir;
  make_stale_socket(dir.path() / "stale");
  for (const char* name : {"nobody", "stale"}) {
    std::optional<ipc::Error> error;
    run_coroutine([&]() -> asio::awaitable<void> {
      try {
        (void)co_await ipc::async_connect_unix_fd(dir.path() / name, 5s);
      } catch (const ipc::Error& e) {
        error = e;
      }
    });
    ASSERT_TRUE(error) << name;
    EXPECT_EQ(error->code(), ipc::ErrorCode::not_found) << error->what();
    EXPECT_NE(error->text().find((dir.path() / name).string()), std::string::npos) << error->what();
  }
}

// The error an async connect to `path` throws within `timeout`, or nothing when it connects;
// `meanwhile` runs 50 ms into the wait.
std::optional<ipc::Error> async_connect_outcome(bool as_fd, const fs::path& path, std::chrono::milliseconds timeout,
                                                std::function<void()> meanwhile = {}) {
  asio::io_context io;
  std::optional<ipc::Error> error;
  bool connected = false;
  asio::steady_timer later(io, 50ms);
  if (meanwhile) later.async_wait([&](const boost::system::error_code& ec) { if (!ec) meanwhile(); });
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        try {
          int fd = -1;
          std::optional<ipc::UnixSocket> socket;
          ipc::UniqueFd owned;
          if (as_fd) {
            owned = co_await ipc::async_connect_unix_fd(path, timeout);
            fd = owned.get();
          } else {
            socket.emplace(co_await ipc::async_connect_unix(path, timeout));
            fd = socket->native_handle();
          }
          sockaddr_un peer{};
          socklen_t len = sizeof peer;
          connected = ::getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &len) == 0;
        } catch (const ipc::Error& e) {
          error = e;
        }
      },
      asio::detached);
  io.run_for(10s);
  if (!error && !connected) ADD_FAILURE() << "the connect reported success on a socket that is not connected";
  return error;
}

TEST(ClientService, AsyncConnectsToAFullBacklogTimeOut) {
  TempDir dir;
  auto listener = ipc::ListeningSocket::bind(dir.path(), ServiceName("busy"), 1);
  const auto fillers = fill_backlog(listener.path());
  for (const bool as_fd : {true, false}) {
    const auto start = std::chrono::steady_clock::now();
    const auto error = async_connect_outcome(as_fd, listener.path(), 300ms);
    ASSERT_TRUE(error) << "a connect to a full backlog succeeded (as_fd " << as_fd << ")";
    EXPECT_EQ(error->code(), ipc::ErrorCode::timeout) << error->what();
    EXPECT_GE(std::chrono::steady_clock::now() - start, 250ms);
  }
}

TEST(ClientService, AsyncConnectsGetInOnceTheBacklogHasRoom) {
  TempDir dir;
  auto listener = ipc::ListeningSocket::bind(dir.path(), ServiceName("busy"), 1);
  auto fillers = fill_backlog(listener.path());
  std::vector<ipc::UniqueFd> accepted;
  const auto accept_one = [&] { accepted.emplace_back(::accept4(listener.fd(), nullptr, nullptr, SOCK_CLOEXEC)); };
  for (const bool as_fd : {true, false}) {
    const auto error = async_connect_outcome(as_fd, listener.path(), 5s, accept_one);
    EXPECT_FALSE(error) << error->what();
    ASSERT_TRUE(accepted.back()) << std::strerror(errno);
  }
}

// Connection::receive(out, timeout) on one end of a socketpair; the test writes the other end.
class TimedReceive : public ::testing::Test {
 protected:
  void SetUp() override {
    int fds[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
    ours_ = ipc::UniqueFd(fds[0]);
    theirs_ = ipc::UniqueFd(fds[1]);
  }
  void write_theirs(const std::string& bytes) {
    ASSERT_EQ(::write(theirs_.get(), bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
  }
  // Receives with `timeout`; `meanwhile` runs on the same io_context while it waits.
  struct Outcome {
    std::optional<bool> got;
    Message message;
    std::optional<ipc::ErrorCode> error;
  };
  Outcome receive(std::chrono::milliseconds timeout, std::function<void()> meanwhile = {},
                  std::chrono::milliseconds after = 50ms, std::size_t max_payload = ipc::default_max_payload) {
    asio::io_context io;
    Outcome outcome;
    ipc::UnixSocket socket(io);
    socket.assign(asio::local::stream_protocol(), ours_.release());
    ipc::Connection connection(std::move(socket), {.max_payload = max_payload});
    asio::steady_timer later(io, after);
    if (meanwhile) later.async_wait([&](const boost::system::error_code& ec) { if (!ec) meanwhile(); });
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
          try {
            outcome.got = co_await connection.receive(outcome.message, timeout);
          } catch (const ipc::Error& e) {
            outcome.error = e.code();
          }
          later.cancel();
        },
        asio::detached);
    io.run_for(10s);
    return outcome;
  }
  ipc::UniqueFd ours_, theirs_;
};

TEST_F(TimedReceive, TakesAFrameThatIsAlreadyThere) {
  write_theirs(ipc::encode(Message::data("early")));
  const auto outcome = receive(5s);
  ASSERT_EQ(outcome.got, std::optional<bool>(true));
  EXPECT_EQ(outcome.message, Message::data("early"));
}

TEST_F(TimedReceive, WaitsForAFrameThatComesLater) {
  const auto outcome = receive(5s, [&] { write_theirs(ipc::encode(Message::data("late"))); });
  ASSERT_EQ(outcome.got, std::optional<bool>(true));
  EXPECT_EQ(outcome.message, Message::data("late"));
}

TEST_F(TimedReceive, WaitsForTheRestOfAFrameThatCameInPart) {
  const std::string wire = ipc::encode(Message::data("in two parts"));
  write_theirs(wire.substr(0, 4));
  const auto outcome = receive(5s, [&] { write_theirs(wire.substr(4)); });
  ASSERT_EQ(outcome.got, std::optional<bool>(true));
  EXPECT_EQ(outcome.message, Message::data("in two parts"));
}

TEST_F(TimedReceive, TimesOutWhenNoWholeFrameComes) {
  write_theirs(ipc::encode(Message::data("cut short")).substr(0, 8));
  const auto start = std::chrono::steady_clock::now();
  const auto outcome = receive(200ms);
  EXPECT_EQ(outcome.error, std::optional<ipc::ErrorCode>(ipc::ErrorCode::timeout));
  EXPECT_GE(std::chrono::steady_clock::now() - start, 150ms);
}

TEST_F(TimedReceive, GivesFalseAtEndOfStream) {
  theirs_.reset();
  const auto outcome = receive(5s);
  EXPECT_EQ(outcome.got, std::optional<bool>(false));
  EXPECT_FALSE(outcome.error);
}

TEST_F(TimedReceive, RefusesATooLargeFrameThatIsAlreadyThere) {
  write_theirs(ipc::encode(Message::data(std::string(200, 'x'))));
  const auto outcome = receive(5s, {}, 50ms, 100);
  EXPECT_EQ(outcome.error, std::optional<ipc::ErrorCode>(ipc::ErrorCode::too_large));
}

TEST(ClientService, StoppingTheServiceRemovesItsSocketFile) {
  TempDir dir;
  const fs::path path = dir.path() / "echo";
  {
    RunningService service(dir.path(), ServiceName("echo"), echo);
    EXPECT_TRUE(fs::is_socket(path));
  }
  EXPECT_FALSE(fs::exists(path));
}

TEST(ListeningSocket, BindsWithMode0666AndCreatesTheRunDirectory) {
  TempDir dir;
  const fs::path rundir = dir.path() / "sub" / "run";
  auto socket = ipc::ListeningSocket::bind(rundir, ServiceName("svc"));
  EXPECT_GE(socket.fd(), 0);
  EXPECT_EQ(socket.path(), rundir / "svc");
  struct stat st{};
  ASSERT_EQ(::lstat(socket.path().c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0666u);
  EXPECT_NO_THROW((void)ipc::connect(ServiceName("svc"), [&] { auto o = options_for(dir); o.rundir = rundir; return o; }()));
}

TEST(ListeningSocket, SecondBindOnALiveNameThrowsAlreadyAnswers) {
  TempDir dir;
  auto first = ipc::ListeningSocket::bind(dir.path(), ServiceName("svc"));
  const std::string why = runtime_error_of([&] { (void)ipc::ListeningSocket::bind(dir.path(), ServiceName("svc")); });
  EXPECT_NE(why.find("already answers"), std::string::npos) << why;
  // The first one keeps its file and still answers.
  EXPECT_TRUE(fs::is_socket(dir.path() / "svc"));
  EXPECT_NO_THROW((void)ipc::connect(ServiceName("svc"), options_for(dir)));
}

TEST(ListeningSocket, BindOnANameARunningServiceHoldsThrowsAndTheServiceGoesOn) {
  TempDir dir;
  RunningService service(dir.path(), ServiceName("echo"), echo);
  const std::string why = runtime_error_of([&] { (void)ipc::ListeningSocket::bind(dir.path(), ServiceName("echo")); });
  EXPECT_NE(why.find("already answers"), std::string::npos) << why;
  auto client = ipc::Client::connect(ServiceName("echo"), options_for(dir));
  client.send(Message::data("still here"));
  EXPECT_EQ(client.receive().payload, "still here");
}

TEST(ListeningSocket, SecondBindOnALiveNameWithAFullBacklogThrowsAtOnce) {
  TempDir dir;
  // Nobody accepts on `first`, so a few connections fill its backlog of 1. A blocking probe
  // connect() would then wait for a free slot forever.
  auto first = ipc::ListeningSocket::bind(dir.path(), ServiceName("svc"), 1);
  const auto fillers = fill_backlog(first.path());
  const auto start = std::chrono::steady_clock::now();
  const std::string why = runtime_error_of([&] { (void)ipc::ListeningSocket::bind(dir.path(), ServiceName("svc")); });
  EXPECT_NE(why.find("already answers"), std::string::npos) << why;
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
  EXPECT_TRUE(fs::is_socket(dir.path() / "svc"));
}

TEST(ListeningSocket, ReplacesAStaleSocketFile) {
  TempDir dir;
  make_stale_socket(dir.path() / "svc");
  auto socket = ipc::ListeningSocket::bind(dir.path(), ServiceName("svc"));
  EXPECT_GE(socket.fd(), 0);
  EXPECT_NO_THROW((void)ipc::connect(ServiceName("svc"), options_for(dir)));
}

TEST(ListeningSocket, ServiceStartsOverAStaleSocketFile) {
  TempDir dir;
  make_stale_socket(dir.path() / "echo");
  RunningService service(dir.path(), ServiceName("echo"), echo);
  auto client = ipc::Client::connect(ServiceName("echo"), options_for(dir));
  client.send(Message::data("x"));
  EXPECT_EQ(client.receive().payload, "x");
}

TEST(ListeningSocket, RefusesARegularFileAndLeavesItAlone) {
  TempDir dir;
  const fs::path path = dir.path() / "svc";
  std::ofstream(path) << "keep me";
  const std::string why = runtime_error_of([&] { (void)ipc::ListeningSocket::bind(dir.path(), ServiceName("svc")); });
  EXPECT_NE(why.find("is not a socket"), std::string::npos) << why;
  EXPECT_TRUE(fs::is_regular_file(path));
  EXPECT_EQ(read_file(path), "keep me");
}

TEST(ListeningSocket, RefusesADirectoryAndLeavesItAlone) {
  TempDir dir;
  fs::create_directory(dir.path() / "svc");
  const std::string why = runtime_error_of([&] { (void)ipc::ListeningSocket::bind(dir.path(), ServiceName("svc")); });
  EXPECT_NE(why.find("is not a socket"), std::string::npos) << why;
  EXPECT_TRUE(fs::is_directory(dir.path() / "svc"));
}

TEST(ListeningSocket, RemovesItsFileWhenDestroyedAndOnlyOnce) {
  TempDir dir;
  const fs::path path = dir.path() / "svc";
  {
    auto socket = ipc::ListeningSocket::bind(dir.path(), ServiceName("svc"));
    auto moved = std::move(socket);
    EXPECT_TRUE(fs::is_socket(path));
    socket.remove_file();  // the moved-from one owns nothing
    EXPECT_TRUE(fs::is_socket(path));
  }
  EXPECT_FALSE(fs::exists(path));
}

TEST(ListeningSocket, AdoptedSocketNeverRemovesTheFile) {
  TempDir dir;
  const fs::path path = dir.path() / "svc";
  auto bound = ipc::ListeningSocket::bind(dir.path(), ServiceName("svc"));
  {
    auto adopted = ipc::ListeningSocket::adopt(ipc::UniqueFd(::dup(bound.fd())), path);
    adopted.remove_file();
  }
  EXPECT_TRUE(fs::is_socket(path));
}

}  // namespace
