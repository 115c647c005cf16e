// A budget for the bytes all WebSocket connections together hold in messages not yet received
// whole (--max-buffered): ten browsers that each leave most of a 16 MiB message unfinished must
// not take the memory everybody else needs. Over the budget the connection holding the most is
// refused first (its relay closes it with 1009, message too big), whoever pushed it over.
#pragma once

#include <cstddef>
#include <functional>
#include <list>
#include <memory>

namespace ipc::ws {

class MessageBudget {
 public:
  // What the budget knows of one holder.
  struct Entry {
    std::size_t held = 0;
    std::function<void()> refuse;
    bool refused = false;
  };
  struct State {
    std::size_t limit = 0;
    std::size_t used = 0;
    std::list<Entry> holders;
  };

  explicit MessageBudget(std::size_t limit);  // 0: no budget

  // One per connection that reads messages; registered while it lives.
  class Holder {
   public:
    // `refuse` is called (at most once) when this holder is chosen while another one reads:
    // it must make this holder's pending read end (cancel it).
    Holder(MessageBudget& budget, std::function<void()> refuse);
    ~Holder();
    Holder(const Holder&) = delete;
    Holder& operator=(const Holder&) = delete;

    // This connection now holds `bytes` in an unfinished message (0 once it is done). Over the
    // budget, the largest holder is refused: false when that is this one.
    [[nodiscard]] bool hold(std::size_t bytes);
    // Was this holder refused (by its own hold() or another's)?
    [[nodiscard]] bool refused() const noexcept;

   private:
    std::shared_ptr<State> state_;
    std::list<Entry>::iterator entry_;
  };

  [[nodiscard]] std::size_t used() const noexcept;
  [[nodiscard]] std::size_t limit() const noexcept;

 private:
  std::shared_ptr<State> state_;
};

}  // namespace ipc::ws
