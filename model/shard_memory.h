// ShardMemory: the checkpoint bytes one rank of an mpirun job maps and reads (docs/parallelism.md, "What
// each rank loads"), counted from the tensor table and the rank's ModelShard, for the per-rank memory report
// at start-up. Slices are memory-mapped views, so these are the pages the rank touches, not copies.
#pragma once

#include "model/config.h"
#include "model/model_shard.h"

namespace sieve::model {

struct ShardMemory {
  double rank_bytes = 0;   // this rank's slices plus the replicated tensors
  double total_bytes = 0;  // the whole checkpoint's tensors (the same set: with or without the MTP layer)
};

// `with_mtp`: the MTP layer is loaded too (speculative decoding).
ShardMemory CountShardMemory(const ModelConfig& config, const ModelShard& shard, bool with_mtp);

}  // namespace sieve::model
