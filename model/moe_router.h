// MoeRouter: DeepSeek-V3's noaux_tc gate (inference/model.py, class Gate; DeepSeek-V3 report sec. 2.1.2).
// s = sigmoid(x . gate^T); the bias `e_score_correction_bias` steers selection only: groups are ranked by
// the sum of their top-2 biased scores, the best `topk_group` groups kept, and the `num_experts_per_tok`
// best biased scores inside them chosen; weights are the *unbiased* s of the chosen experts, normalised to
// sum 1 and multiplied by `routed_scaling_factor`.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "kernels/thread_pool.h"
#include "kernels/weight_matrix.h"
#include "model/checkpoint.h"

namespace sieve::model {

struct Routing {
  int64_t k = 0;                 // experts per token
  std::vector<int32_t> experts;  // [n, k] in selection order (descending biased score)
  std::vector<float> weights;    // [n, k]
};

class MoeRouter {
 public:
  MoeRouter(const Checkpoint& ckpt, const std::string& prefix);  // prefix "model.layers.3.mlp"
  // x [n, hidden].
  Routing Route(const float* x, int64_t n, kernels::ThreadPool& pool) const;

 private:
  // Chooses one token's experts from its sigmoid scores [n_experts].
  void Select(const float* scores, int32_t* experts, float* weights) const;

  kernels::WeightMatrix gate_;  // [n_routed_experts, hidden]
  std::vector<float> bias_;     // [n_routed_experts], empty without noaux_tc
  int64_t n_experts_, n_group_, topk_group_, top_k_;
  float routed_scaling_factor_;
  bool softmax_scoring_;
};

}  // namespace sieve::model
