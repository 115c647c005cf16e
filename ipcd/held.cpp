// Connections a uid holds through ipcd (see held.hpp).
#include "held.hpp"

#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <algorithm>
#include <stdexcept>
#include <cerrno>
#include <ipc/fd.hpp>
#include <ipc/log.hpp>
#include <system_error>

namespace ipcd {

namespace asio = ipc::asio;

namespace {

// A dump may come back marked inconsistent (sockets came and went while it was made): it is
// asked again, this many times at most, then taken as it is.
constexpr int dump_attempts = 3;

[[noreturn]] void fail(int error, const char* what) {
  throw std::system_error(error, std::generic_category(), std::string("listing the Unix sockets: ") + what);
}

// One dump of every Unix socket of this network namespace; false when it came back inconsistent.
bool dump_unix_sockets(int netlink, std::unordered_set<std::uint64_t>& live) {
  struct {
    nlmsghdr header;
    unix_diag_req body;
  } request{};
  request.header.nlmsg_len = sizeof request;
  request.header.nlmsg_type = SOCK_DIAG_BY_FAMILY;
  request.header.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  request.header.nlmsg_seq = 1;
  request.body.sdiag_family = AF_UNIX;
  request.body.udiag_states = ~0u;  // every state
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  if (::sendto(netlink, &request, sizeof request, 0, reinterpret_cast<sockaddr*>(&kernel), sizeof kernel) < 0)
    fail(errno, "sendto");
  bool consistent = true;
  alignas(nlmsghdr) char buffer[32 * 1024];
  for (;;) {
    const ssize_t n = ::recv(netlink, buffer, sizeof buffer, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail(errno, "recv");
    }
    if (n == 0) fail(EPROTO, "the kernel ended the dump");
    auto left = static_cast<int>(n);
    for (auto* h = reinterpret_cast<nlmsghdr*>(buffer); NLMSG_OK(h, left); h = NLMSG_NEXT(h, left)) {
      if ((h->nlmsg_flags & NLM_F_DUMP_INTR) != 0) consistent = false;
      if (h->nlmsg_type == NLMSG_DONE) return consistent;
      if (h->nlmsg_type == NLMSG_ERROR) {
        const auto* error = static_cast<const nlmsgerr*>(NLMSG_DATA(h));
        fail(error->error < 0 ? -error->error : EPROTO, "the kernel refused the dump");
      }
      if (h->nlmsg_type != SOCK_DIAG_BY_FAMILY || h->nlmsg_len < NLMSG_LENGTH(sizeof(unix_diag_msg))) continue;
      const auto* socket = static_cast<const unix_diag_msg*>(NLMSG_DATA(h));
      live.insert(static_cast<std::uint64_t>(socket->udiag_cookie[0]) |
                  static_cast<std::uint64_t>(socket->udiag_cookie[1]) << 32);
    }
  }
}

}  // namespace

std::unordered_set<std::uint64_t> live_unix_sockets() {
  const ipc::UniqueFd netlink(::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG));
  if (!netlink) fail(errno, "socket(AF_NETLINK)");
  // The kernel answers at once; a bound on the wait all the same, since ipcd's loop waits too.
  const timeval bound{1, 0};
  (void)::setsockopt(netlink.get(), SOL_SOCKET, SO_RCVTIMEO, &bound, sizeof bound);
  std::unordered_set<std::uint64_t> live;
  for (int attempt = 1;; ++attempt) {
    live.clear();
    if (dump_unix_sockets(netlink.get(), live) || attempt == dump_attempts) return live;
  }
}

std::uint64_t socket_cookie(int fd) noexcept {
  std::uint64_t cookie = 0;
  socklen_t size = sizeof cookie;
  if (::getsockopt(fd, SOL_SOCKET, SO_COOKIE, &cookie, &size) != 0) return 0;
  return cookie;
}

void HeldConnections::State::survey() {
  surveyed = Clock::now();
  next_survey = surveyed + survey_interval;  // (also when the kernel cannot say)
  const auto live = live_unix_sockets();
  recorded = 0;
  for (auto it = places.begin(); it != places.end();) {
    auto& cookies = it->second.cookies;
    std::erase_if(cookies, [&](std::uint64_t cookie) { return !live.contains(cookie); });
    recorded += cookies.size();
    it = cookies.empty() && it->second.pending == 0 ? places.erase(it) : std::next(it);
  }
  live_after_survey = recorded;
  next_survey = std::max(next_survey, Clock::now() + 10 * (Clock::now() - surveyed));
}

HeldConnections::HeldConnections(std::size_t max) : max_(max) {
  if (max_ == 0) return;
  try {
    (void)live_unix_sockets();
  } catch (const std::system_error& e) {
    throw std::runtime_error(std::string("--max-held needs the kernel's sock_diag for Unix sockets "
                                         "(CONFIG_UNIX_DIAG) and AF_NETLINK: ") + e.what());
  }
}

HeldConnections::Claim& HeldConnections::Claim::operator=(Claim&& other) noexcept {
  if (this != &other) {
    release();
    state_ = std::move(other.state_);
    key_ = std::move(other.key_);
  }
  return *this;
}

void HeldConnections::Claim::release() noexcept {
  if (!state_) return;
  const auto it = state_->places.find(key_);
  if (it != state_->places.end()) {
    --it->second.pending;
    if (it->second.pending == 0 && it->second.cookies.empty()) state_->places.erase(it);
  }
  state_.reset();
}

void HeldConnections::Claim::keep(int fd) {
  if (!state_) return;
  const std::uint64_t cookie = socket_cookie(fd);
  if (cookie != 0) {
    state_->places[key_].cookies.push_back(cookie);
    ++state_->recorded;
  }
  auto state = state_;
  release();
  // Sockets of uids under their limit are never looked at on their own: a survey now and then
  // keeps what the closed ones leave behind bounded.
  if (state->recorded > state->live_after_survey + 4096) {
    try {
      state->survey();
    } catch (const std::system_error& e) {
      ipc::log_warn(e.what());
    }
  }
}

asio::awaitable<std::optional<HeldConnections::Claim>> HeldConnections::claim(uid_t uid, std::string what) {
  if (max_ == 0) co_return Claim();
  Key key{uid, std::move(what)};
  const auto held = [&] {
    const auto it = state_->places.find(key);
    return it == state_->places.end() ? std::size_t{0} : it->second.cookies.size() + it->second.pending;
  };
  if (held() >= max_) {
    // Which of them are closed: ask the kernel, unless it was asked a moment ago, then wait
    // for the moment to pass (one survey serves every lookup waiting for it).
    const auto asked = Clock::now();
    if (state_->next_survey > asked) {
      asio::steady_timer moment(co_await asio::this_coro::executor, state_->next_survey);
      co_await moment.async_wait(ipc::use_nothrow);
    }
    if (state_->surveyed < asked) {
      try {
        state_->survey();
      } catch (const std::system_error& e) {
        ipc::log_warn(e.what(), ": the connections held are counted as they were");
      }
    }
    if (held() >= max_) co_return std::nullopt;
  }
  ++state_->places[key].pending;
  co_return Claim(state_, std::move(key));
}

nlohmann::json HeldConnections::status(std::optional<uid_t> only) const {
  nlohmann::json uids = nlohmann::json::object();
  for (const auto& [key, place] : state_->places)
    if (!place.cookies.empty() && (!only || *only == key.first))
      uids[std::to_string(key.first)][key.second] = place.cookies.size();
  return {{"max", max_}, {"uids", uids}};
}

}  // namespace ipcd
