// Unit tests for ipc::PeerLimit: slots per peer, given back when a connection ends.
#include <gtest/gtest.h>

#include <ipc/peer_limit.hpp>
#include <vector>

namespace {

TEST(PeerLimit, GivesEachPeerAtMostMaxSlots) {
  ipc::PeerLimit limit(2);
  std::vector<ipc::PeerLimit::Slot> held;
  for (int i = 0; i < 2; ++i) {
    auto slot = limit.take("uid 1000");
    ASSERT_TRUE(slot);
    held.push_back(std::move(*slot));
  }
  EXPECT_FALSE(limit.take("uid 1000"));
  EXPECT_EQ(limit.held("uid 1000"), 2u);
  // Another peer has its own count.
  EXPECT_TRUE(limit.take("uid 1001"));
  EXPECT_EQ(limit.held("uid 1001"), 0u);  // (that slot was a temporary: given back at once)
  held.pop_back();
  EXPECT_EQ(limit.held("uid 1000"), 1u);
  EXPECT_TRUE(limit.take("uid 1000"));
}

TEST(PeerLimit, ZeroMeansNoLimit) {
  ipc::PeerLimit limit(0);
  std::vector<ipc::PeerLimit::Slot> held;
  for (int i = 0; i < 1000; ++i) held.push_back(std::move(*limit.take("192.0.2.7")));
  EXPECT_EQ(limit.held("192.0.2.7"), 1000u);
}

TEST(PeerLimit, ASlotMayOutliveItsLimitAndMovesOnce) {
  std::optional<ipc::PeerLimit::Slot> kept;
  {
    ipc::PeerLimit limit(1);
    kept.emplace(std::move(*limit.take("a")));
    ipc::PeerLimit::Slot moved = std::move(*kept);
    EXPECT_EQ(limit.held("a"), 1u);  // moved, not doubled
    *kept = std::move(moved);
    EXPECT_EQ(limit.held("a"), 1u);
  }
  kept.reset();  // after the PeerLimit is gone: no crash, nothing to give back to
}

}  // namespace
