// Communicator: the collectives a model split across processes needs, over one process group.
//   - tensor parallelism (Megatron-LM, Shoeybi et al. 2019, sec. 3): an all-reduce after each
//     row-parallel linear (attention output, dense MLP down projection);
//   - expert parallelism (DeepSeek-V3 report sec. 3.2; vLLM's all2all backends): an all-to-all that
//     dispatches each token's hidden row to the ranks owning its routed experts and one that combines
//     the weighted results back;
//   - data-parallel attention (SGLang's --enable-dp-attention): an all-gather of per-rank batches
//     before the MoE layers and a broadcast of each step's plan.
// One interface, so the model runs unchanged in one process (LocalCommunicator) or under mpirun
// (MpiCommunicator). Every call is collective: all ranks of the group make it in the same order.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "core/status.h"

namespace sieve::parallel {

class Communicator {
 public:
  virtual ~Communicator() = default;

  virtual int rank() const = 0;
  virtual int size() const = 0;

  // In place: data[i] <- sum over ranks of data[i]. Same length on every rank.
  virtual Status AllReduceSum(std::span<float> data) = 0;
  // out [size() * local.size()]: rank r's `local` lands at offset r * local.size().
  virtual Status AllGather(std::span<const float> local, std::span<float> out) = 0;
  // Root's `data` to every rank (same length everywhere).
  virtual Status Broadcast(std::span<std::byte> data, int root) = 0;
  // Variable all-to-all: `send` holds the bytes for rank 0, then rank 1, ... with send_counts[r] bytes for
  // rank r (send_counts has size() entries). Returns what every rank sent here, in rank order, and sets
  // (*recv_counts)[r] to the bytes that came from rank r. Exchanges the counts first, so callers need
  // not know them.
  virtual StatusOr<std::vector<std::byte>> AllToAllV(std::span<const std::byte> send,
                                                     std::span<const int64_t> send_counts,
                                                     std::vector<int64_t>* recv_counts) = 0;
  virtual Status Barrier() = 0;
  // The sub-group of the ranks that pass the same `color`, ordered by `key` (MPI_Comm_split): e.g. the
  // tensor-parallel group of a data-parallel replica.
  virtual StatusOr<std::unique_ptr<Communicator>> Split(int color, int key) = 0;
};

}  // namespace sieve::parallel
