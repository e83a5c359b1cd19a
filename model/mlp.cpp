// SwiGLU feed-forward block (see mlp.h).
#include "model/mlp.h"

#include "core/scratch_buffer.h"
#include "kernels/activation.h"
#include "kernels/matmul.h"
#include "model/weight_views.h"

namespace sieve::model {

Mlp::Mlp(const Checkpoint& ckpt, const std::string& prefix, parallel::ShardRange inter)
    : gate_(LinearMatrix(ckpt.Linear(prefix + ".gate_proj")).Rows(inter.begin, inter.count)),
      up_(LinearMatrix(ckpt.Linear(prefix + ".up_proj")).Rows(inter.begin, inter.count)),
      down_(LinearMatrix(ckpt.Linear(prefix + ".down_proj")).Cols(inter.begin, inter.count)) {}

void Mlp::Forward(const float* x, int64_t n, float* out, kernels::ThreadPool& pool) const {
  const int64_t inter = gate_.rows;
  thread_local ScratchBuffer gate_buffer, up_buffer;  // written whole before read (core/scratch_buffer.h)
  float* const gate = gate_buffer.Get(n * inter);     // [n, inter]
  float* const up = up_buffer.Get(n * inter);         // [n, inter]
  const kernels::MatmulProduct gate_up[] = {Gate(x, n, gate), Up(x, n, up)};  // one pool job
  kernels::MatmulMany(gate_up, pool);
  kernels::SiluMul(gate, up, n * inter, gate);
  kernels::Matmul(down_, gate, n, out, pool);
}

}  // namespace sieve::model
