// The follower ranks' side of `mpirun -np N sieve serve|bench latency|bench throughput ... --tensor-parallel-size
// T` (lock-step serving, engine/lock_step_model.h), and the start-up message that gives them rank 0's KV-cache
// geometry: rank 0 sizes its cache from its own free memory, and every rank's cache must have exactly the
// same blocks.
#pragma once

#include <optional>
#include <string>

#include "cli/parallel_session.h"
#include "model/model.h"
#include "model/paged_kv_cache.h"

namespace sieve::cli {

struct KvGeometry {
  int64_t num_blocks = 0;
  int64_t block_size = 0;
  model::KvCacheDtype dtype = model::KvCacheDtype::kF32;

};

// Each replica's leader, once, over session.control(): the geometry, or nullopt when its start-up failed
// (the followers then exit 1 without a message, since the leader prints the reason). With a geometry and
// the leader's `model`, every rank then joins the per-rank memory report (ParallelSession::ReportMemory).
Status ShareKvGeometry(const ParallelSession& session, const std::optional<KvGeometry>& geometry,
                       const model::Model* model = nullptr);

// Every other rank: loads its share of the model like rank 0, waits for the geometry, then runs rank 0's
// step commands until it sends stop. Returns the exit code (0 after stop; a failed collective ends the job).
int RunServeFollower(const std::string& model_dir, model::WeightLoad load, const model::ModelOptions& options,
                     const ParallelSession& session);

}  // namespace sieve::cli
