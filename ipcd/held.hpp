// Connections a uid holds through ipcd (--max-held N). A service sees ipcd's uid on every
// connection ipcd made for a lookup, so its own --max-per-peer cannot tell the askers apart;
// ipcd can. It counts, per uid and per what the connection occupies (a local service, or the
// protocol daemon that relays it), the sockets it connected and passed on. It keeps no copy of
// them, so it learns that one has closed from the kernel's list of the Unix sockets that still
// exist (sock_diag, what `ss -x` reads), and asks only when a uid is at its limit, at most once
// every 20 ms however many ask (and never for more than a tenth of the time). A remote
// connection whose socket was handed over (DESIGN §15) occupies nothing here and is not counted.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <ipc/asio.hpp>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

namespace ipcd {

// The cookies (SO_COOKIE: unique per socket until the next boot) of the Unix sockets of this
// network namespace that exist now. Throws std::system_error when the kernel cannot say.
[[nodiscard]] std::unordered_set<std::uint64_t> live_unix_sockets();
// `fd`'s socket cookie, 0 when it has none.
[[nodiscard]] std::uint64_t socket_cookie(int fd) noexcept;

class HeldConnections {
 public:
  using Clock = std::chrono::steady_clock;
  // The least time between two surveys; at least ten times as long as the last one took, too,
  // so that surveys of a namespace with many sockets take no more than a tenth of ipcd's time.
  static constexpr std::chrono::milliseconds survey_interval{20};

  // `max` 0: no limit. When there is one, the kernel is asked once here, so that a kernel
  // without sock_diag for Unix sockets fails at the start (std::system_error), not at a limit.
  explicit HeldConnections(std::size_t max);

 private:
  using Key = std::pair<uid_t, std::string>;
  struct Place {
    std::vector<std::uint64_t> cookies;  // passed on, maybe closed since the last survey
    std::size_t pending = 0;             // claimed by lookups still running
  };
  struct State {
    std::map<Key, Place> places;
    Clock::time_point surveyed{};     // when the last survey began
    Clock::time_point next_survey{};  // the earliest the next may begin
    std::size_t recorded = 0;            // cookies in all places
    std::size_t live_after_survey = 0;   // of them, after the last survey
    void survey();
  };

 public:
  // A place one lookup fills while it runs; kept when its connection is passed on, given back
  // otherwise. An empty Claim counts nothing (no limit, or a uid not counted).
  class Claim {
   public:
    Claim() = default;
    Claim(Claim&& other) noexcept = default;
    Claim& operator=(Claim&& other) noexcept;
    Claim(const Claim&) = delete;
    Claim& operator=(const Claim&) = delete;
    ~Claim() { release(); }
    // The connection `fd` was passed on: it counts from now until its socket is gone.
    void keep(int fd);

   private:
    friend class HeldConnections;
    Claim(std::shared_ptr<State> state, Key key) : state_(std::move(state)), key_(std::move(key)) {}
    void release() noexcept;
    std::shared_ptr<State> state_;
    Key key_;
  };

  // A place for one more of `uid`'s connections `what` ("to service pong", "relayed by tcpd"),
  // or nullopt when the uid holds max there, closed sockets taken off first.
  ipc::asio::awaitable<std::optional<Claim>> claim(uid_t uid, std::string what);
  [[nodiscard]] std::size_t max() const noexcept { return max_; }
  // {"max": N, "uids": {"UID": {"WHAT": connections}}}: the connections as last counted (some
  // may have closed since); of every uid, or only of `only` when given.
  [[nodiscard]] nlohmann::json status(std::optional<uid_t> only = std::nullopt) const;

 private:
  std::shared_ptr<State> state_ = std::make_shared<State>();
  std::size_t max_;
};

}  // namespace ipcd
