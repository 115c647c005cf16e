// Connections per peer (--max-per-peer N): a uid on a Unix socket, an address on TCP. However
// many slots a server has in all, one peer may hold only N of them, so that nobody can take
// them all and starve everybody else.
#pragma once

#include <cstddef>
#include <map>
#include <memory>
#include <optional>
#include <string>

namespace ipc {

class PeerLimit {
 public:
  // `max` 0: no limit (take() always gives a slot).
  explicit PeerLimit(std::size_t max = 0) : state_(std::make_shared<State>()), max_(max) {}

  // Held while one connection of the peer lives; gives the place back when destroyed. It may
  // outlive the PeerLimit (a session that ends after its server object).
  class Slot {
   public:
    Slot(Slot&& other) noexcept = default;
    Slot& operator=(Slot&& other) noexcept;
    Slot(const Slot&) = delete;
    Slot& operator=(const Slot&) = delete;
    ~Slot() { release(); }

   private:
    friend class PeerLimit;
    Slot(std::shared_ptr<std::map<std::string, std::size_t>> counts, std::string peer)
        : counts_(std::move(counts)), peer_(std::move(peer)) {}
    void release() noexcept;
    std::shared_ptr<std::map<std::string, std::size_t>> counts_;
    std::string peer_;
  };

  // A slot for `peer` ("uid 1000", "192.0.2.7"), or nullopt when it holds `max` already.
  [[nodiscard]] std::optional<Slot> take(const std::string& peer);
  // How many `peer` holds now.
  [[nodiscard]] std::size_t held(const std::string& peer) const;
  [[nodiscard]] std::size_t max() const noexcept { return max_; }

 private:
  using State = std::map<std::string, std::size_t>;
  std::shared_ptr<State> state_;
  std::size_t max_;
};

}  // namespace ipc
