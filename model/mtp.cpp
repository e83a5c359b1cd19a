// Multi-token-prediction layer (see mtp.h).
#include "model/mtp.h"

#include <algorithm>

#include "kernels/matmul.h"
#include "kernels/norm.h"
#include "model/tensor_names.h"
#include "model/weight_views.h"

namespace sieve::model {

MtpLayer::MtpLayer(const Checkpoint& ckpt, int64_t layer, const YarnRope& rope, const ModelShard& shard)
    : hidden_(ckpt.config().hidden_size),
      eps_(static_cast<float>(ckpt.config().rms_norm_eps)),
      embed_(DenseMatrix(ckpt.Get(LayerPrefix(layer) + "embed_tokens.weight")), shard.vocab),
      head_(DenseMatrix(ckpt.Get(LayerPrefix(layer) + "shared_head.head.weight")), shard.vocab),
      eh_proj_(DenseMatrix(ckpt.Get(LayerPrefix(layer) + "eh_proj.weight"))),
      enorm_(FloatVector(ckpt.Get(LayerPrefix(layer) + "enorm.weight"))),
      hnorm_(FloatVector(ckpt.Get(LayerPrefix(layer) + "hnorm.weight"))),
      head_norm_(FloatVector(ckpt.Get(LayerPrefix(layer) + "shared_head.norm.weight"))),
      block_(ckpt, layer, rope, shard) {}

void MtpLayer::Forward(const StepTokens& step, const float* main_hidden, int64_t cache_layer, PagedKvCache& cache,
                       const ForwardContext& ctx, bool zero_first_embedding, float* normed) const {
  const int64_t n = step.n_tokens(), d = hidden_;
  std::vector<float> embedded(n * d), concat(n * 2 * d);  // [n, hidden], [n, embedding | hidden]
  embed_.Embed(step.token_ids.data(), n, embedded.data(), ctx.attention_group);
  for (int64_t t = 0; t < n; ++t) {
    float* e = concat.data() + t * 2 * d;
    if (zero_first_embedding && step.positions[t] == 0) {
      std::fill(e, e + d, 0.0f);  // RMSNorm of zeros stays zero
    } else {
      kernels::RmsNorm(embedded.data() + t * d, enorm_.data(), 1, d, eps_, e);
    }
    kernels::RmsNorm(main_hidden + t * d, hnorm_.data(), 1, d, eps_, e + d);
  }
  std::vector<float> x(n * d);
  kernels::Matmul(eh_proj_, concat.data(), n, x.data(), *ctx.pool);
  block_.Forward(step, x.data(), cache_layer, cache, ctx);
  kernels::RmsNorm(x.data(), head_norm_.data(), n, d, eps_, normed);
}

void MtpLayer::Logits(const float* normed, int64_t n, float* logits, const ForwardContext& ctx) const {
  head_.Logits(normed, n, logits, *ctx.pool, ctx.attention_group);
}

}  // namespace sieve::model
