// Mlp: the SwiGLU feed-forward block, used as the dense FFN of the first layers, as each routed expert
// and as the shared expert (DeepSeek-V3 inference/model.py, MLP / Expert): down(silu(gate(x)) * up(x)).
#pragma once

#include <string>

#include "kernels/thread_pool.h"
#include "kernels/weight_matrix.h"
#include "model/checkpoint.h"
#include "parallel/parallel_layout.h"

namespace sieve::model {

class Mlp {
 public:
  // `prefix`: "model.layers.0.mlp" or "model.layers.3.mlp.experts.7". `inter`: the intermediate slice this
  // rank computes (gate/up rows, down_proj columns); the whole intermediate dimension in one process.
  Mlp(const Checkpoint& ckpt, const std::string& prefix, parallel::ShardRange inter);
  // x [n, hidden] -> out [n, hidden]: the slice's part of the output, whose sum over the slices is the
  // MLP's output (SwiGLU is element-wise in the intermediate dimension).
  void Forward(const float* x, int64_t n, float* out, kernels::ThreadPool& pool) const;

 private:
  kernels::WeightMatrix gate_, up_, down_;  // [slice, hidden], [slice, hidden], [hidden, slice]
};

}  // namespace sieve::model
