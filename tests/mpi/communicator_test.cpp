// The MPI communicator under a real `mpirun` (ctest starts it with 2 and 4 processes on loopback): every
// collective gives each rank the values computed by hand, sub-groups split as MPI_Comm_split does, and
// (with --hang-probe) a rank that never joins makes the others stop with a clear message instead of
// hanging.
#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <numeric>
#include <thread>

#include "parallel/mpi_runtime.h"

namespace sieve::parallel {
namespace {

Communicator* world = nullptr;  // set by main for the whole run

TEST(MpiCommunicatorTest, AllReduceSumsEveryElementOverRanks) {
  const int n = world->size();
  std::vector<float> data(1000);
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<float>(world->rank() + i);
  ASSERT_TRUE(world->AllReduceSum(data).ok());
  const float rank_sum = static_cast<float>(n * (n - 1) / 2);
  for (size_t i = 0; i < data.size(); ++i) ASSERT_EQ(data[i], rank_sum + static_cast<float>(n * i)) << i;
}

TEST(MpiCommunicatorTest, AllGatherPlacesEachRankAtItsOffset) {
  const std::vector<float> local = {static_cast<float>(world->rank()), 10.0f + world->rank()};
  std::vector<float> out(2 * static_cast<size_t>(world->size()));
  ASSERT_TRUE(world->AllGather(local, out).ok());
  for (int r = 0; r < world->size(); ++r) {
    EXPECT_EQ(out[2 * r], static_cast<float>(r));
    EXPECT_EQ(out[2 * r + 1], 10.0f + r);
  }
  std::vector<float> too_small(1);
  EXPECT_EQ(world->AllGather(local, too_small).code(), StatusCode::kInvalidArgument);
}

TEST(MpiCommunicatorTest, BroadcastCopiesTheRootsBytes) {
  const int root = world->size() - 1;
  std::vector<std::byte> data(64, std::byte{0});
  if (world->rank() == root) {
    for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<std::byte>(i * 3);
  }
  ASSERT_TRUE(world->Broadcast(data, root).ok());
  for (size_t i = 0; i < data.size(); ++i) ASSERT_EQ(data[i], static_cast<std::byte>(i * 3));
  EXPECT_EQ(world->Broadcast(data, world->size()).code(), StatusCode::kInvalidArgument);
}

// Rank s sends (s + 1) * (d + 1) bytes of value 16 s + d to rank d: uneven sizes, as expert dispatch has.
TEST(MpiCommunicatorTest, AllToAllVDeliversVariableBlocksInRankOrder) {
  const int n = world->size(), me = world->rank();
  std::vector<int64_t> send_counts;
  std::vector<std::byte> send;
  for (int d = 0; d < n; ++d) {
    send_counts.push_back((me + 1) * (d + 1));
    send.insert(send.end(), static_cast<size_t>(send_counts.back()), static_cast<std::byte>(16 * me + d));
  }
  std::vector<int64_t> recv_counts;
  auto recv = world->AllToAllV(send, send_counts, &recv_counts);
  ASSERT_TRUE(recv.ok()) << recv.status().message();
  size_t offset = 0;
  for (int s = 0; s < n; ++s) {
    ASSERT_EQ(recv_counts[s], (s + 1) * (me + 1));
    for (int64_t i = 0; i < recv_counts[s]; ++i) {
      ASSERT_EQ((*recv)[offset++], static_cast<std::byte>(16 * s + me)) << "from rank " << s;
    }
  }
  EXPECT_EQ(offset, recv->size());
}

TEST(MpiCommunicatorTest, SplitGroupsReduceOnlyWithinThemselves) {
  const int color = world->rank() % 2;
  auto group = world->Split(color, world->rank());
  ASSERT_TRUE(group.ok()) << group.status().message();
  const int expected_size = (world->size() + 1 - color) / 2;
  EXPECT_EQ((*group)->size(), expected_size);
  EXPECT_EQ((*group)->rank(), world->rank() / 2);
  std::vector<float> value = {static_cast<float>(world->rank())};
  ASSERT_TRUE((*group)->AllReduceSum(value).ok());
  float expected = 0;
  for (int r = color; r < world->size(); r += 2) expected += static_cast<float>(r);
  EXPECT_EQ(value[0], expected);
  EXPECT_TRUE(world->Barrier().ok());
}

// Rank 0 waits in an all-reduce that rank 1 never joins: after the 1 s deadline it reports and aborts the
// job (ctest matches the message; mpirun ends rank 1's sleep).
int HangProbe(Communicator& comm) {
  if (comm.rank() != 0) {
    std::this_thread::sleep_for(std::chrono::seconds(60));
    return 1;
  }
  std::vector<float> data(4, 1.0f);
  const Status status = comm.AllReduceSum(data);
  if (status.code() != StatusCode::kDeadlineExceeded) return 1;
  AbortJob(status);
}

}  // namespace
}  // namespace sieve::parallel

int main(int argc, char** argv) {
  using namespace sieve::parallel;
  const bool hang_probe = argc > 1 && std::strcmp(argv[1], "--hang-probe") == 0;
  auto runtime = MpiRuntime::Init();
  if (!runtime.ok()) {
    std::fprintf(stderr, "%s\n", runtime.status().message().c_str());
    return 1;
  }
  auto comm = (*runtime)->World(hang_probe ? std::chrono::seconds(1) : std::chrono::seconds(30));
  if (!comm.ok()) {
    std::fprintf(stderr, "%s\n", comm.status().message().c_str());
    return 1;
  }
  if (hang_probe) return HangProbe(**comm);
  world = comm->get();
  ::testing::InitGoogleTest(&argc, argv);
  if (world->rank() != 0) GTEST_FLAG_SET(brief, true);  // rank 0 prints the run, the others only failures
  const int failed = RUN_ALL_TESTS();
  comm->reset();
  return failed;
}
