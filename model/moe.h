// Moe: DeepSeekMoE feed-forward (DeepSeek-V3 inference/model.py, class MoE): the routed experts chosen by
// MoeRouter, weighted, plus the always-on shared expert. Only the chosen experts' weights are read.
// Under mpirun every rank computes its own experts (or its intermediate slice of each) and the shared
// expert's slice of its attention group. Without data-parallel attention every rank of the MoE group holds
// the same tokens, so each routes all of them (the router is replicated) and one all-reduce of the weighted
// partial rows is the exact combine. With it the replicas hold different tokens: each rank of a replica
// takes an equal share of the replica's rows and sends them through the all-to-all dispatch/combine of
// expert_dispatch.h, and the attention group's all-reduce then joins the shares and the shared expert.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "model/expert_dispatch.h"
#include "model/forward_context.h"
#include "model/mlp.h"
#include "model/model_shard.h"
#include "model/moe_router.h"

namespace sieve::model {

class Moe {
 public:
  Moe(const Checkpoint& ckpt, const std::string& prefix, const ModelShard& shard);  // prefix "model.layers.3.mlp"
  // x [n, hidden] -> out [n, hidden], summed over the ranks. `routing_out` (may be null) receives the
  // routing decisions of all n rows.
  void Forward(const float* x, int64_t n, float* out, const ForwardContext& ctx, Routing* routing_out) const;

 private:
  // out [m, hidden] <- sum over this rank's experts among each row's choices (experts/weights [m, k],
  // global ids; others and -1 skipped) of weight x expert(row). Tokens are grouped per expert so each
  // expert's weights are read once; contributions are added in expert order, as MoE.forward does, then
  // `shared` (may be null) applied to every row.
  void LocalExperts(const float* x, int64_t m, const int32_t* experts, const float* weights, int64_t k, float* out,
                    const Mlp* shared, kernels::ThreadPool& pool) const;

  MoeRouter router_;
  int64_t first_expert_;      // experts_[i] is routed expert first_expert_ + i
  ExpertPlacement placement_;  // which rank of the MoE group holds which experts
  std::vector<Mlp> experts_;  // this rank's experts (all of them without EP)
  std::unique_ptr<Mlp> shared_;  // null without shared experts
  int64_t hidden_;
};

}  // namespace sieve::model
