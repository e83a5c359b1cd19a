// Mlp: the SwiGLU feed-forward block, used as the dense FFN of the first layers, as each routed expert
// and as the shared expert (DeepSeek-V3 inference/model.py, MLP / Expert): down(silu(gate(x)) * up(x)).
#pragma once

#include <string>

#include "kernels/matmul.h"
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

  // Forward's products, for callers that run several MLPs' products in one kernels::MatmulMany call (a MoE
  // layer's chosen experts): gate / up [n, intermediate()] of x [n, hidden], then out [n, hidden] of
  // act = SiluMul(gate, up).
  kernels::MatmulProduct Gate(const float* x, int64_t n, float* gate) const { return {&gate_, x, n, gate}; }
  kernels::MatmulProduct Up(const float* x, int64_t n, float* up) const { return {&up_, x, n, up}; }
  kernels::MatmulProduct Down(const float* act, int64_t n, float* out) const { return {&down_, act, n, out}; }
  int64_t intermediate() const { return gate_.rows; }

 private:
  kernels::WeightMatrix gate_, up_, down_;  // [slice, hidden], [slice, hidden], [hidden, slice]
};

}  // namespace sieve::model
