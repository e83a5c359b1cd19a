// Moe: DeepSeekMoE feed-forward (DeepSeek-V3 inference/model.py, class MoE): the routed experts chosen by
// MoeRouter, weighted, plus the always-on shared expert. Only the chosen experts' weights are read.
// Under mpirun every rank routes every token (the router is replicated) and computes its own experts
// (or its intermediate slice of each); the weighted sum over ranks is the exact output, so the combine
// is one all-reduce (the EP dispatch/combine of docs/parallelism.md in its simplest exact form).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "model/forward_context.h"
#include "model/mlp.h"
#include "model/model_shard.h"
#include "model/moe_router.h"

namespace sieve::model {

class Moe {
 public:
  Moe(const Checkpoint& ckpt, const std::string& prefix, const ModelShard& shard);  // prefix "model.layers.3.mlp"
  // x [n, hidden] -> out [n, hidden], summed over the ranks. `routing_out` (may be null) receives the
  // routing decisions.
  void Forward(const float* x, int64_t n, float* out, const ForwardContext& ctx, Routing* routing_out) const;

 private:
  MoeRouter router_;
  int64_t first_expert_;     // experts_[i] is routed expert first_expert_ + i
  std::vector<Mlp> experts_;  // this rank's experts (all of them without EP)
  std::unique_ptr<Mlp> shared_;  // null without shared experts
  int64_t hidden_;
};

}  // namespace sieve::model
