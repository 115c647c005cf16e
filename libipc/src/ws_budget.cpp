// The budget for unfinished WebSocket messages (see ipc/ws/budget.hpp).
#include "ipc/ws/budget.hpp"

#include <algorithm>

namespace ipc::ws {

MessageBudget::MessageBudget(std::size_t limit) : state_(std::make_shared<State>()) { state_->limit = limit; }

std::size_t MessageBudget::used() const noexcept { return state_->used; }
std::size_t MessageBudget::limit() const noexcept { return state_->limit; }

MessageBudget::Holder::Holder(MessageBudget& budget, std::function<void()> refuse) : state_(budget.state_) {
  entry_ = state_->holders.insert(state_->holders.end(), Entry{0, std::move(refuse), false});
}

MessageBudget::Holder::~Holder() {
  state_->used -= entry_->held;
  state_->holders.erase(entry_);
}

bool MessageBudget::Holder::refused() const noexcept { return entry_->refused; }

bool MessageBudget::Holder::hold(std::size_t bytes) {
  if (entry_->refused) return false;
  state_->used = state_->used - entry_->held + bytes;
  entry_->held = bytes;
  if (state_->limit == 0) return true;
  while (state_->used > state_->limit) {
    auto largest = state_->holders.end();
    for (auto it = state_->holders.begin(); it != state_->holders.end(); ++it) {
      if (!it->refused && (largest == state_->holders.end() || it->held > largest->held)) largest = it;
    }
    if (largest == state_->holders.end() || largest->held == 0) break;
    // Refused: it counts no more (its relay drops what it held as it closes).
    largest->refused = true;
    state_->used -= largest->held;
    largest->held = 0;
    if (largest == entry_) return false;
    if (largest->refuse) largest->refuse();
  }
  return true;
}

}  // namespace ipc::ws
