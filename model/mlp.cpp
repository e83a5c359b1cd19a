// SwiGLU feed-forward block (see mlp.h).
#include "model/mlp.h"

#include <vector>

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
  thread_local std::vector<float> gate, up;  // [n, inter], reused as DecoderLayer's x and y are
  GrowScratch(gate, n * inter);
  GrowScratch(up, n * inter);
  const kernels::MatmulProduct gate_up[] = {Gate(x, n, gate.data()), Up(x, n, up.data())};  // one pool job
  kernels::MatmulMany(gate_up, pool);
  kernels::SiluMul(gate.data(), up.data(), n * inter, gate.data(), pool);
  kernels::Matmul(down_, gate.data(), n, out, pool);
}

}  // namespace sieve::model
