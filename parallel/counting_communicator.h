// CountingCommunicator: forwards every collective to another communicator and counts what the all-reduces
// were given (calls and payload bytes per rank) and what the all-to-alls sent (payload bytes, without the
// count exchange), so a test or benchmark can print one step's traffic next to the analytic count of
// docs/parallelism.md ("Communication per decode step").
#pragma once

#include "parallel/communicator.h"

namespace sieve::parallel {

class CountingCommunicator final : public Communicator {
 public:
  explicit CountingCommunicator(Communicator* inner) : inner_(inner) {}  // `inner` outlives this

  int64_t all_reduce_calls() const { return calls_; }
  int64_t all_reduce_bytes() const { return bytes_; }  // the buffer each rank passed, summed over calls
  int64_t all_to_all_bytes() const { return all_to_all_bytes_; }  // sent by this rank, summed over calls
  void ResetCounts() { calls_ = bytes_ = all_to_all_bytes_ = 0; }

  int rank() const override { return inner_->rank(); }
  int size() const override { return inner_->size(); }
  Status AllReduceSum(std::span<float> data) override;
  Status AllGather(std::span<const float> local, std::span<float> out) override;
  Status Broadcast(std::span<std::byte> data, int root) override;
  StatusOr<std::vector<std::byte>> AllToAllV(std::span<const std::byte> send, std::span<const int64_t> send_counts,
                                             std::vector<int64_t>* recv_counts) override;
  Status Barrier() override;
  // The sub-group of `inner` (not counted).
  StatusOr<std::unique_ptr<Communicator>> Split(int color, int key) override;

 private:
  Communicator* inner_;
  int64_t calls_ = 0, bytes_ = 0, all_to_all_bytes_ = 0;
};

}  // namespace sieve::parallel
