// Mlp: the SwiGLU feed-forward block, used as the dense FFN of the first layers, as each routed expert
// and as the shared expert (DeepSeek-V3 inference/model.py, MLP / Expert): down(silu(gate(x)) * up(x)).
#pragma once

#include <string>

#include "kernels/thread_pool.h"
#include "kernels/weight_matrix.h"
#include "model/checkpoint.h"

namespace sieve::model {

class Mlp {
 public:
  // `prefix`: "model.layers.0.mlp" or "model.layers.3.mlp.experts.7".
  Mlp(const Checkpoint& ckpt, const std::string& prefix);
  // x [n, hidden] -> out [n, hidden].
  void Forward(const float* x, int64_t n, float* out, kernels::ThreadPool& pool) const;

 private:
  kernels::WeightMatrix gate_, up_, down_;  // [inter, hidden], [inter, hidden], [hidden, inter]
};

}  // namespace sieve::model
