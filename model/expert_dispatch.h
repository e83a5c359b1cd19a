// Expert dispatch and combine over all-to-all (DeepSeek-V3 report sec. 3.2; DeepEP and vLLM's all2all
// backends), used when the replicas of data-parallel attention hold different tokens, so the MoE group's
// ranks no longer share one batch that an all-reduce could combine (docs/parallelism.md).
//
// Each rank sends each of its token rows once to every rank that holds one of the token's routed experts
// (with expert parallelism: the owners of its top-k experts, at most k ranks; without it every rank holds a
// slice of every expert, so every rank), together with the expert ids and weights that rank applies. Each
// rank computes the weighted sum of its experts for every row it received and sends the partial rows back
// in the order they came; the sender adds them up in rank order, so the result does not depend on timing.
#pragma once

#include <cstdint>
#include <functional>

#include "model/moe_router.h"
#include "parallel/communicator.h"

namespace sieve::model {

// Which ranks of the MoE group hold which routed experts.
struct ExpertPlacement {
  int64_t n_experts = 0;
  int64_t experts_per_rank = 0;  // == n_experts: every rank holds a slice of every expert (MoE-TP)
  bool OnEveryRank() const { return experts_per_rank == n_experts; }
  int OwnerOf(int64_t expert) const { return static_cast<int>(expert / experts_per_rank); }
};

// This rank's routed experts applied to m rows: x [m, hidden], experts/weights [m, k] (global expert ids;
// ids this rank does not hold, or -1, are skipped) -> out [m, hidden] (overwritten).
using LocalExperts =
    std::function<void(const float* x, int64_t m, const int32_t* experts, const float* weights, int64_t k, float* out)>;

// Bytes one dispatched row occupies: k expert ids, k weights and the row itself. The combine returns
// hidden floats per dispatched row.
int64_t DispatchRecordBytes(int64_t k, int64_t hidden);

// out [n, hidden] <- the routed experts' output for x [n, hidden] (this rank's rows, routed by `routing`),
// summed over every rank of `group`. Collective: every rank calls it, with n = 0 when it has no rows. A
// failed exchange ends the job (parallel::AbortJob), as every collective inside the forward pass does.
void DispatchCombine(parallel::Communicator& group, const ExpertPlacement& placement, const float* x, int64_t n,
                     int64_t hidden, const Routing& routing, const LocalExperts& local, float* out);

}  // namespace sieve::model
