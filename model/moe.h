// Moe: DeepSeekMoE feed-forward (DeepSeek-V3 inference/model.py, class MoE): the routed experts chosen by
// MoeRouter, weighted, plus the always-on shared expert. Only the chosen experts' weights are read.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "model/mlp.h"
#include "model/moe_router.h"

namespace sieve::model {

class Moe {
 public:
  Moe(const Checkpoint& ckpt, const std::string& prefix);  // prefix "model.layers.3.mlp"
  // x [n, hidden] -> out [n, hidden]. `routing_out` (may be null) receives the routing decisions.
  void Forward(const float* x, int64_t n, float* out, kernels::ThreadPool& pool, Routing* routing_out) const;

 private:
  MoeRouter router_;
  std::vector<Mlp> experts_;
  std::unique_ptr<Mlp> shared_;  // null without shared experts
  int64_t hidden_;
};

}  // namespace sieve::model
