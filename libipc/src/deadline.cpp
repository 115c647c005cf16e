// The deadline for reads, writes, connects and handshakes (see deadline.hpp).
#include "ipc/deadline.hpp"

namespace ipc {

Deadline::Deadline(const asio::any_io_executor& executor, std::chrono::milliseconds timeout)
    : timer_(executor), state_(std::make_shared<State>()) {
  arm(timeout);
}

Deadline::Deadline(const asio::any_io_executor& executor, std::chrono::milliseconds timeout,
                   std::function<void()> expire, std::function<bool()> progressed)
    : timer_(executor), state_(std::make_shared<State>()) {
  state_->expire = std::move(expire);
  state_->progressed = std::move(progressed);
  arm(timeout);
}

Deadline::~Deadline() {
  ++state_->generation;  // a handler already queued finds itself stale
  state_->expire = nullptr;
  timer_.cancel();
}

void Deadline::extend(std::chrono::milliseconds timeout) {
  if (state_->expired) return;
  ++state_->generation;
  timer_.cancel();
  arm(timeout);
}

void Deadline::arm(std::chrono::milliseconds timeout) { arm(timer_, state_, timeout); }

void Deadline::arm(asio::steady_timer& timer, const std::shared_ptr<State>& state, std::chrono::milliseconds timeout) {
  state->timeout = timeout;
  timer.expires_after(timeout);
  // The timer is the Deadline's; the handler reaches it only while the generation says the
  // Deadline (and so the timer) is still there.
  timer.async_wait([&timer, state, generation = state->generation](const boost::system::error_code& ec) {
    if (ec || generation != state->generation || state->expired) return;
    if (state->progressed && state->progressed()) {
      arm(timer, state, state->timeout);
      return;
    }
    state->expired = true;
    if (state->expire) {
      auto expire = std::move(state->expire);
      expire();
    } else {
      state->signal.emit(asio::cancellation_type::terminal);
    }
  });
}

}  // namespace ipc
