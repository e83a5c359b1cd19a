// The replicas' per-step agreement (see replica_sync.h).
#include "engine/replica_sync.h"

#include "parallel/mpi_runtime.h"

namespace sieve::engine {

ReplicaSync::Round ReplicaSync::Agree(bool has_work, bool stopping) {
  opened_.wait();
  // Counts of replicas with work and replicas stopping; small integers, exact in float.
  float counts[2] = {has_work ? 1.0f : 0.0f, stopping ? 1.0f : 0.0f};
  if (Status s = leaders_.AllReduceSum(counts); !s.ok()) parallel::AbortJob(s);
  if (counts[1] > 0 && !stopping && !told_to_stop_) {
    told_to_stop_ = true;
    on_stop_();
  }
  return {.step = counts[0] > 0, .stop = counts[0] == 0 && counts[1] == static_cast<float>(leaders_.size())};
}

}  // namespace sieve::engine
