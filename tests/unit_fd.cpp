// Unit tests for UniqueFd and fd passing next to a frame (SCM_RIGHTS) over a Unix socketpair.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <optional>
#include <ipc/error.hpp>
#include <ipc/fd.hpp>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace {

using ipc::Message;
using ipc::UniqueFd;

struct SocketPair {
  UniqueFd a, b;
  SocketPair() {
    int fds[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) throw std::runtime_error("socketpair");
    a.reset(fds[0]);
    b.reset(fds[1]);
  }
};

// Sends one byte with `count` copies of `socket` itself attached (SCM_RIGHTS), in one sendmsg.
void send_one_byte_with(int socket, std::size_t count) {
  iovec iov{const_cast<char*>("x"), 1};
  std::vector<int> fds(count, socket);
  std::vector<char> control(CMSG_SPACE(sizeof(int) * count));
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control.data();
  msg.msg_controllen = control.size();
  cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
  cmsg->cmsg_level = SOL_SOCKET;
  cmsg->cmsg_type = SCM_RIGHTS;
  cmsg->cmsg_len = CMSG_LEN(sizeof(int) * count);
  std::memcpy(CMSG_DATA(cmsg), fds.data(), sizeof(int) * count);
  ASSERT_EQ(::sendmsg(socket, &msg, MSG_NOSIGNAL), 1);
}

struct Pipe {
  UniqueFd read, write;
  Pipe() {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe2");
    read.reset(fds[0]);
    write.reset(fds[1]);
  }
};

std::size_t open_fd_count() {
  std::size_t n = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) ++n;
  return n;
}

bool is_open(int fd) { return ::fcntl(fd, F_GETFD) != -1; }

void write_all(int fd, const std::string& bytes) {
  ASSERT_EQ(::write(fd, bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
}

// Sends `bytes` with the given fds attached, in one sendmsg.
void send_raw_with_fds(int socket, const std::string& bytes, std::initializer_list<int> fds) {
  iovec iov{const_cast<char*>(bytes.data()), bytes.size()};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * 4)] = {};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = CMSG_SPACE(sizeof(int) * fds.size());
  cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
  cmsg->cmsg_level = SOL_SOCKET;
  cmsg->cmsg_type = SCM_RIGHTS;
  cmsg->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
  std::memcpy(CMSG_DATA(cmsg), fds.begin(), sizeof(int) * fds.size());
  ASSERT_EQ(::sendmsg(socket, &msg, MSG_NOSIGNAL), static_cast<ssize_t>(bytes.size()));
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

TEST(Fd, PassesAFrameWithAWorkingFd) {
  SocketPair s;
  Pipe p;
  const Message sent = Message::data("ok", 3);
  ipc::send_frame_with_fd(s.a.get(), sent, p.write.get());
  auto got = ipc::recv_frame_with_fd(s.b.get());
  EXPECT_EQ(got.message, sent);
  ASSERT_TRUE(got.fd.valid());
  EXPECT_NE(got.fd.get(), p.write.get());
  // Writing through the received fd reaches the pipe.
  p.write.reset();
  write_all(got.fd.get(), "through");
  got.fd.reset();
  char buffer[32];
  ASSERT_EQ(::read(p.read.get(), buffer, sizeof buffer), 7);
  EXPECT_EQ(std::string(buffer, 7), "through");
  EXPECT_EQ(::read(p.read.get(), buffer, sizeof buffer), 0);  // every write end is closed
}

TEST(Fd, PassesAnFdWithALargePayload) {
  SocketPair s;
  Pipe p;
  const Message sent = Message::data(std::string(300000, 'P'), 1);
  std::thread sender([&] { ipc::send_frame_with_fd(s.a.get(), sent, p.read.get()); });
  auto got = ipc::recv_frame_with_fd(s.b.get());
  sender.join();
  EXPECT_EQ(got.message, sent);
  EXPECT_TRUE(got.fd.valid());
}

TEST(Fd, ReceivedFdIsCloseOnExec) {
  SocketPair s;
  Pipe p;
  // The original is deliberately not close-on-exec: the flag must come from the receive.
  ASSERT_EQ(::fcntl(p.write.get(), F_SETFD, 0), 0);
  ipc::send_frame_with_fd(s.a.get(), Message::data("ok"), p.write.get());
  const auto got = ipc::recv_frame_with_fd(s.b.get());
  ASSERT_TRUE(got.fd.valid());
  const int flags = ::fcntl(got.fd.get(), F_GETFD);
  ASSERT_NE(flags, -1);
  EXPECT_TRUE(flags & FD_CLOEXEC);
}

TEST(Fd, FrameWithoutFdGivesAnInvalidFd) {
  SocketPair s;
  ipc::send_frame_with_fd(s.a.get(), Message::error("not-found: x"), -1);
  const auto got = ipc::recv_frame_with_fd(s.b.get());
  EXPECT_EQ(got.message, Message::error("not-found: x"));
  EXPECT_FALSE(got.fd.valid());
  EXPECT_EQ(got.fd.get(), -1);
}

TEST(Fd, EmptyPayloadFrameCarriesAnFd) {
  SocketPair s;
  Pipe p;
  ipc::send_frame_with_fd(s.a.get(), {ipc::MessageType::status, 9, ""}, p.read.get());
  const auto got = ipc::recv_frame_with_fd(s.b.get());
  EXPECT_EQ(got.message, (Message{ipc::MessageType::status, 9, ""}));
  EXPECT_TRUE(got.fd.valid());
}

TEST(Fd, TwoFdsWithOneFrameAreRefusedAndLeakNothing) {
  SocketPair s;
  Pipe p;
  const std::size_t before = open_fd_count();
  send_raw_with_fds(s.a.get(), ipc::encode(Message::data("ok")), {p.read.get(), p.write.get()});
  const auto e = expect_error([&] { (void)ipc::recv_frame_with_fd(s.b.get()); });
  EXPECT_EQ(e.code(), ipc::ErrorCode::bad_request);
  EXPECT_NE(e.text().find("more than one file descriptor"), std::string::npos) << e.what();
  EXPECT_EQ(open_fd_count(), before);
}

TEST(Fd, ManyFdsTruncateTheControlMessageAndLeakNothing) {
  SocketPair s;
  const std::size_t before = open_fd_count();
  // 12 fds: more than recv_with_fds' control buffer holds (8), so MSG_CTRUNC.
  send_one_byte_with(s.a.get(), 12);
  std::vector<UniqueFd> received;
  char buffer[8];
  const auto e = expect_error([&] { (void)ipc::recv_with_fds(s.b.get(), buffer, received); });
  EXPECT_EQ(e.code(), ipc::ErrorCode::bad_request);
  EXPECT_TRUE(received.empty());
  EXPECT_EQ(open_fd_count(), before);
}

TEST(Fd, AReceiverOutOfDescriptorsSaysSoInsteadOfBlamingThePeer) {
  SocketPair s;
  // Three descriptors in one message, to a receiver that has room for two more: the kernel
  // installs two and truncates the control message (MSG_CTRUNC), as for a daemon at its
  // RLIMIT_NOFILE. (Room for two, not none: the sanitizers need a pipe to report anything.)
  send_one_byte_with(s.a.get(), 3);
  const std::size_t before = open_fd_count();
  // Descriptors are numbered lowest free first: with the limit two above the lowest free one,
  // exactly two more fit.
  const int lowest_free = ::dup(0);
  ASSERT_GE(lowest_free, 0);
  ::close(lowest_free);
  rlimit saved{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &saved), 0);
  rlimit tight = saved;
  tight.rlim_cur = static_cast<rlim_t>(lowest_free + 2);
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &tight), 0);
  std::vector<UniqueFd> received;
  char buffer[8];
  std::optional<ipc::Error> error;
  try {
    (void)ipc::recv_with_fds(s.b.get(), buffer, received);
  } catch (const ipc::Error& e) {
    error = e;
  }
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &saved), 0);
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->code(), ipc::ErrorCode::internal) << error->what();
  EXPECT_NE(error->text().find("out of file descriptors"), std::string::npos) << error->what();
  EXPECT_TRUE(received.empty());
  EXPECT_EQ(open_fd_count(), before);  // the two that did arrive are closed again
}

TEST(Fd, ReceivesExactlyOneFrameAndLeavesTheNextInTheSocket) {
  SocketPair s;
  const std::string first = ipc::encode(Message::data("first", 1));
  const std::string second = ipc::encode(Message::data("second", 2));
  write_all(s.a.get(), first + second);
  const auto got = ipc::recv_frame_with_fd(s.b.get());
  EXPECT_EQ(got.message, Message::data("first", 1));
  // Exactly the second frame's bytes are left.
  char buffer[64];
  const ssize_t n = ::recv(s.b.get(), buffer, sizeof buffer, MSG_DONTWAIT);
  ASSERT_EQ(n, static_cast<ssize_t>(second.size()));
  EXPECT_EQ(std::string(buffer, static_cast<std::size_t>(n)), second);
}

TEST(Fd, ReceivesTwoFramesWithAnFdEachInTurn) {
  SocketPair s;
  Pipe p1, p2;
  ipc::send_frame_with_fd(s.a.get(), Message::data("one"), p1.write.get());
  ipc::send_frame_with_fd(s.a.get(), Message::data("two"), p2.write.get());
  auto one = ipc::recv_frame_with_fd(s.b.get());
  auto two = ipc::recv_frame_with_fd(s.b.get());
  EXPECT_EQ(one.message.payload, "one");
  EXPECT_EQ(two.message.payload, "two");
  ASSERT_TRUE(one.fd.valid());
  ASSERT_TRUE(two.fd.valid());
  // Each fd is the one sent with its frame.
  p1.write.reset();
  p2.write.reset();
  write_all(two.fd.get(), "2");
  two.fd.reset();
  char c = 0;
  ASSERT_EQ(::read(p2.read.get(), &c, 1), 1);
  EXPECT_EQ(c, '2');
}

TEST(Fd, ReceiveTimesOutWhenNothingArrives) {
  SocketPair s;
  const auto start = std::chrono::steady_clock::now();
  const auto e = expect_error([&] { (void)ipc::recv_frame_with_fd(s.b.get(), ipc::default_max_payload, 100); });
  const auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(e.code(), ipc::ErrorCode::timeout);
  EXPECT_GE(elapsed, std::chrono::milliseconds(90));
  EXPECT_LT(elapsed, std::chrono::seconds(5));
}

TEST(Fd, ReceiveTimesOutOnAPartialFrame) {
  SocketPair s;
  write_all(s.a.get(), ipc::encode(Message::data("hello")).substr(0, 8));
  const auto e = expect_error([&] { (void)ipc::recv_frame_with_fd(s.b.get(), ipc::default_max_payload, 100); });
  EXPECT_EQ(e.code(), ipc::ErrorCode::timeout);
}

TEST(Fd, EofMidFrameIsUnavailable) {
  for (std::size_t cut : {std::size_t{0}, std::size_t{3}, std::size_t{6}, std::size_t{9}}) {
    SocketPair s;
    write_all(s.a.get(), ipc::encode(Message::data("hello")).substr(0, cut));
    s.a.reset();
    const auto e = expect_error([&] { (void)ipc::recv_frame_with_fd(s.b.get()); });
    EXPECT_EQ(e.code(), ipc::ErrorCode::unavailable) << "cut at " << cut;
  }
}

TEST(Fd, TooLargeAnnouncedLengthIsRefused) {
  SocketPair s;
  std::array<std::uint8_t, ipc::header_size> header{};
  ipc::encode_header(header, ipc::MessageType::data, 0xFFFFFFFFu, 0);
  write_all(s.a.get(), std::string(reinterpret_cast<const char*>(header.data()), header.size()));
  auto e = expect_error([&] { (void)ipc::recv_frame_with_fd(s.b.get()); });
  EXPECT_EQ(e.code(), ipc::ErrorCode::too_large);
  EXPECT_NE(e.text().find("4294967295"), std::string::npos) << e.what();

  write_all(s.a.get(), ipc::encode(Message::data(std::string(11, 'x'))));
  e = expect_error([&] { (void)ipc::recv_frame_with_fd(s.b.get(), 10); });
  EXPECT_EQ(e.code(), ipc::ErrorCode::too_large);
}

TEST(Fd, SendOnAClosedPeerIsUnavailable) {
  SocketPair s;
  s.b.reset();
  const auto e = expect_error([&] { ipc::send_frame_with_fd(s.a.get(), Message::data("x"), -1); });
  EXPECT_EQ(e.code(), ipc::ErrorCode::unavailable);
}

TEST(UniqueFd, ClosesOnDestruction) {
  Pipe p;
  const int fd = p.read.get();
  { UniqueFd owner(p.read.release()); }
  EXPECT_FALSE(is_open(fd));
}

TEST(UniqueFd, MoveTransfersOwnershipAndClosesExactlyOnce) {
  Pipe p;
  const int fd = p.read.release();
  UniqueFd a(fd);
  UniqueFd b(std::move(a));
  EXPECT_FALSE(a.valid());
  EXPECT_EQ(a.get(), -1);
  EXPECT_EQ(b.get(), fd);
  EXPECT_TRUE(is_open(fd));

  UniqueFd c;
  c = std::move(b);
  EXPECT_FALSE(b.valid());
  EXPECT_EQ(c.get(), fd);
  EXPECT_TRUE(is_open(fd));

  // Self-move keeps the fd.
  UniqueFd& alias = c;
  c = std::move(alias);
  EXPECT_EQ(c.get(), fd);
  EXPECT_TRUE(is_open(fd));

  c.reset();
  EXPECT_FALSE(is_open(fd));
  EXPECT_FALSE(c);
}

TEST(UniqueFd, MoveAssignmentClosesThePreviousFd) {
  Pipe p;
  const int r = p.read.get();
  const int w = p.write.get();
  UniqueFd target(p.read.release());
  target = std::move(p.write);
  EXPECT_FALSE(is_open(r));
  EXPECT_TRUE(is_open(w));
  EXPECT_EQ(target.get(), w);
}

TEST(UniqueFd, ReleaseGivesUpOwnership) {
  Pipe p;
  const int fd = p.read.get();
  {
    UniqueFd owner(p.read.release());
    EXPECT_EQ(owner.release(), fd);
    EXPECT_FALSE(owner.valid());
  }
  EXPECT_TRUE(is_open(fd));
  ::close(fd);
}

TEST(UniqueFd, DefaultIsInvalid) {
  const UniqueFd fd;
  EXPECT_FALSE(fd.valid());
  EXPECT_FALSE(static_cast<bool>(fd));
  EXPECT_EQ(fd.get(), -1);
}

}  // namespace
