// Connections per peer (see peer_limit.hpp).
#include "ipc/peer_limit.hpp"

namespace ipc {

PeerLimit::Slot& PeerLimit::Slot::operator=(Slot&& other) noexcept {
  if (this != &other) {
    release();
    counts_ = std::move(other.counts_);
    peer_ = std::move(other.peer_);
  }
  return *this;
}

void PeerLimit::Slot::release() noexcept {
  if (!counts_) return;
  const auto it = counts_->find(peer_);
  if (it != counts_->end() && --it->second == 0) counts_->erase(it);
  counts_.reset();
}

std::optional<PeerLimit::Slot> PeerLimit::take(const std::string& peer) {
  std::size_t& count = (*state_)[peer];
  if (max_ > 0 && count >= max_) {
    if (count == 0) state_->erase(peer);
    return std::nullopt;
  }
  ++count;
  return Slot(state_, peer);
}

std::size_t PeerLimit::held(const std::string& peer) const {
  const auto it = state_->find(peer);
  return it == state_->end() ? 0 : it->second;
}

}  // namespace ipc
