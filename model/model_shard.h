// ModelShard: which part of every split dimension one rank of an mpirun job computes (docs/parallelism.md,
// "What each rank loads"). Attention heads, index heads, the dense MLP and the shared expert are split over
// the attention-TP group (Megatron-LM, Shoeybi et al. 2019, sec. 3: column-parallel in, row-parallel out);
// routed experts are split over every rank, as whole experts (EP) or as intermediate slices (MoE-TP).
// Slices need not fall on FP8 block edges: kernels look each scale up by the element's position in the
// whole tensor, so a slice of a 128 x 128 block is exact.
#pragma once

#include <string>

#include "core/status.h"
#include "model/config.h"
#include "parallel/parallel_layout.h"

namespace sieve::model {

struct ModelShard {
  parallel::ShardRange heads;                // MLA heads (q_b_proj / kv_b_proj rows, o_proj columns)
  parallel::ShardRange index_heads;          // indexer heads (wq_b and weights_proj rows)
  parallel::ShardRange dense_intermediate;   // dense MLP: gate/up rows, down_proj columns
  parallel::ShardRange shared_intermediate;  // shared expert, split like the dense MLP
  parallel::ShardRange experts;              // routed experts this rank computes
  parallel::ShardRange expert_intermediate;  // each computed expert's intermediate slice
  // embed_tokens / lm_head rows (vocab_parallel.h): split like the heads, or whole when the vocabulary does
  // not divide by the attention-TP size.
  parallel::ShardRange vocab;

  // Every range of `layout`'s rank; an error names the dimension that does not divide.
  static StatusOr<ModelShard> Create(const ModelConfig& config, const parallel::ParallelLayout& layout);

  // The fraction of checkpoint tensor `name` (and of its block scales) this rank holds: its share of the
  // split dimension, 0 for another rank's expert, 1 for a replicated tensor.
  double TensorShare(const std::string& name, const ModelConfig& config) const;
};

}  // namespace sieve::model
