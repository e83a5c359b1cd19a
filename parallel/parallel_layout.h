// ParallelLayout: which slice of the model and which requests one rank of an mpirun job owns.
//
// Normalized from either engine's flags:
//   vLLM:   world = tensor_parallel_size x data_parallel_size, world rank = dp_rank * tp + tp_rank
//           (vllm/distributed/parallel_state.py orders TP innermost);
//   SGLang: with --enable-dp-attention the world is --tp and attention runs data-parallel in --dp groups
//           of tp/dp ranks each (python/sglang/srt/layers/dp_attention.py).
// Attention (MLA heads, indexer heads) and the dense MLPs are split over the attention-TP group of a
// replica; each replica (dp_rank) keeps its own requests' KV cache. The MoE layers always span the whole
// world: with expert parallelism each rank holds whole experts (a contiguous range, vLLM's linear
// placement), otherwise each expert's intermediate dimension is split over all ranks (vLLM's FusedMoE
// flattens DP x TP into the MoE TP group).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.h"

namespace sieve::parallel {

struct ParallelConfig {
  int tensor_parallel_size = 1;  // vLLM --tensor-parallel-size; SGLang --tp (the world with DP attention)
  int data_parallel_size = 1;    // vLLM --data-parallel-size; SGLang --dp
  bool enable_expert_parallel = false;  // vLLM --enable-expert-parallel; SGLang --ep N (N = world)
  int expert_parallel_size = 0;         // SGLang --ep N as given (0: not given)
  bool enable_dp_attention = false;     // SGLang --enable-dp-attention
};

// [begin, begin + count) of something split into equal contiguous shards.
struct ShardRange {
  int64_t begin = 0;
  int64_t count = 0;
};

struct ParallelLayout {
  int world_size = 1;
  int world_rank = 0;
  int attn_tp_size = 1;  // ranks sharing one replica's attention heads
  int attn_tp_rank = 0;
  int dp_size = 1;  // replicas, each with its own requests and KV cache
  int dp_rank = 0;
  int moe_ep_size = 1;  // ranks that split the experts (whole experts each)
  int moe_ep_rank = 0;
  int moe_tp_size = 1;  // ranks that split every expert's intermediate dimension
  int moe_tp_rank = 0;

  // Checks the flags against the number of processes mpirun started; every error names the flags.
  static StatusOr<ParallelLayout> Create(const ParallelConfig& config, int world_size, int world_rank);

  // This rank's equal contiguous share of `total` items split `parts` ways (heads, experts, intermediate
  // columns); `what` names the model dimension in the error when `total` does not divide.
  static StatusOr<ShardRange> Shard(int64_t total, int parts, int index, std::string_view what);
  StatusOr<ShardRange> AttentionHeads(int64_t num_heads) const;
  StatusOr<ShardRange> RoutedExperts(int64_t num_experts) const;
  StatusOr<ShardRange> ExpertIntermediate(int64_t moe_intermediate_size) const;

  // "TP=2 DP=2 EP=4 (rank 3: dp 1, attention-tp 1, experts ep 3)" for the start-up banner.
  std::string Describe() const;
};

}  // namespace sieve::parallel
