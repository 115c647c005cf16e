#include <gtest/gtest.h>
#include <ipc/message.hpp>
TEST(Frame, Placeholder) { EXPECT_EQ(ipc::header_size, 6u); }
