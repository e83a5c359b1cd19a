// Counting all-reduce and all-to-all traffic (see counting_communicator.h).
#include "parallel/counting_communicator.h"

namespace sieve::parallel {

Status CountingCommunicator::AllReduceSum(std::span<float> data) {
  ++calls_;
  bytes_ += static_cast<int64_t>(data.size_bytes());
  return inner_->AllReduceSum(data);
}

Status CountingCommunicator::AllGather(std::span<const float> local, std::span<float> out) {
  return inner_->AllGather(local, out);
}

Status CountingCommunicator::Broadcast(std::span<std::byte> data, int root) { return inner_->Broadcast(data, root); }

StatusOr<std::vector<std::byte>> CountingCommunicator::AllToAllV(std::span<const std::byte> send,
                                                                 std::span<const int64_t> send_counts,
                                                                 std::vector<int64_t>* recv_counts) {
  all_to_all_bytes_ += static_cast<int64_t>(send.size_bytes());
  return inner_->AllToAllV(send, send_counts, recv_counts);
}

Status CountingCommunicator::Barrier() { return inner_->Barrier(); }

StatusOr<std::unique_ptr<Communicator>> CountingCommunicator::Split(int color, int key) {
  return inner_->Split(color, key);
}

}  // namespace sieve::parallel
