// LocalCommunicator: the group of one process, where every collective is the identity. What a model
// gets when it runs unsplit, so the split code paths need no `if (distributed)` branches.
#pragma once

#include "parallel/communicator.h"

namespace sieve::parallel {

class LocalCommunicator final : public Communicator {
 public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  Status AllReduceSum(std::span<float> data) override;
  Status AllGather(std::span<const float> local, std::span<float> out) override;
  Status Broadcast(std::span<std::byte> data, int root) override;
  StatusOr<std::vector<std::byte>> AllToAllV(std::span<const std::byte> send, std::span<const int64_t> send_counts,
                                             std::vector<int64_t>* recv_counts) override;
  Status Barrier() override;
  StatusOr<std::unique_ptr<Communicator>> Split(int color, int key) override;
};

}  // namespace sieve::parallel
