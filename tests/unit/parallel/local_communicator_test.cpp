// LocalCommunicator: a group of one, where every collective returns its input.
#include "parallel/local_communicator.h"

#include <gtest/gtest.h>

namespace sieve::parallel {
namespace {

TEST(LocalCommunicatorTest, CollectivesAreTheIdentity) {
  LocalCommunicator comm;
  EXPECT_EQ(comm.rank(), 0);
  EXPECT_EQ(comm.size(), 1);
  std::vector<float> data = {1.5f, -2.0f};
  ASSERT_TRUE(comm.AllReduceSum(data).ok());
  EXPECT_EQ(data, (std::vector<float>{1.5f, -2.0f}));
  std::vector<float> gathered(2);
  ASSERT_TRUE(comm.AllGather(data, gathered).ok());
  EXPECT_EQ(gathered, data);
  const std::vector<std::byte> send = {std::byte{7}, std::byte{9}};
  const std::vector<int64_t> counts = {2};
  std::vector<int64_t> recv_counts;
  auto recv = comm.AllToAllV(send, counts, &recv_counts);
  ASSERT_TRUE(recv.ok());
  EXPECT_EQ(*recv, send);
  EXPECT_EQ(recv_counts, counts);
  auto sub = comm.Split(3, 0);
  ASSERT_TRUE(sub.ok());
  EXPECT_EQ((*sub)->size(), 1);
}

TEST(LocalCommunicatorTest, RefusesShapesAGroupOfOneCannotHave) {
  LocalCommunicator comm;
  std::vector<float> data(2), out(3);
  EXPECT_EQ(comm.AllGather(data, out).code(), StatusCode::kInvalidArgument);
  std::vector<std::byte> bytes(4);
  EXPECT_EQ(comm.Broadcast(bytes, 1).code(), StatusCode::kInvalidArgument);
  std::vector<int64_t> recv_counts;
  const std::vector<int64_t> wrong = {3};
  EXPECT_FALSE(comm.AllToAllV(bytes, wrong, &recv_counts).ok());
}

}  // namespace
}  // namespace sieve::parallel
