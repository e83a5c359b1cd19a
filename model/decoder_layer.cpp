// One transformer block (see decoder_layer.h).
#include "model/decoder_layer.h"

#include "core/scratch_buffer.h"
#include "kernels/norm.h"
#include "model/group_sum.h"
#include "model/tensor_names.h"
#include "model/weight_views.h"

namespace sieve::model {

DecoderLayer::DecoderLayer(const Checkpoint& ckpt, int64_t layer, const YarnRope& rope, const ModelShard& shard)
    : hidden_(ckpt.config().hidden_size),
      eps_(static_cast<float>(ckpt.config().rms_norm_eps)),
      attn_norm_(FloatVector(ckpt.Get(LayerPrefix(layer) + "input_layernorm.weight"))),
      ffn_norm_(FloatVector(ckpt.Get(LayerPrefix(layer) + "post_attention_layernorm.weight"))),
      attn_(ckpt, layer, rope, shard) {
  if (ckpt.config().is_moe_layer(layer))
    moe_ = std::make_unique<Moe>(ckpt, LayerPrefix(layer) + "mlp", shard);
  else
    mlp_ = std::make_unique<Mlp>(ckpt, LayerPrefix(layer) + "mlp", shard.dense_intermediate);
}

namespace {

// x = RmsNorm(h) with weight w, after h += residual when given; row by row over the pool (a row's result
// does not depend on the split). On the calling thread these passes over [n, hidden] were ~2% of a
// 2,048-token prefill's samples, with the other core idle.
void AddThenNorm(float* h, const float* residual, const std::vector<float>& w, int64_t n, int64_t dim, float eps,
                 float* x, kernels::ThreadPool& pool) {
  pool.ParallelFor(n, [&](int64_t r0, int64_t r1) {
    if (residual != nullptr)
      for (int64_t i = r0 * dim; i < r1 * dim; ++i) h[i] += residual[i];
    kernels::RmsNorm(h + r0 * dim, w.data(), r1 - r0, dim, eps, x + r0 * dim);
  }, /*grain=*/16);
}

}  // namespace

void DecoderLayer::Forward(const StepTokens& step, float* h, int64_t cache_layer, PagedKvCache& cache,
                           const ForwardContext& ctx) const {
  const int64_t n = step.n_tokens();
  // [n, hidden], reused from layer to layer and step to step on the thread running the layers (each element
  // is written before it is read): allocated per layer, a 2,048-token prefill zero-filled and page-faulted
  // 16 MiB in every layer.
  thread_local std::vector<float> x, y;
  GrowScratch(x, n * hidden_);
  GrowScratch(y, n * hidden_);
  AddThenNorm(h, nullptr, attn_norm_, n, hidden_, eps_, x.data(), *ctx.pool);
  attn_.Forward(step, x.data(), cache_layer, cache, ctx, y.data());
  AddThenNorm(h, y.data(), ffn_norm_, n, hidden_, eps_, x.data(), *ctx.pool);
  if (moe_) {
    Routing routing;
    moe_->Forward(x.data(), n, y.data(), ctx, ctx.trace ? &routing : nullptr);
    if (ctx.trace) {
      ctx.trace->moe_expert_ids[cache_layer] = routing.experts;
      ctx.trace->moe_expert_weights[cache_layer] = routing.weights;
    }
  } else {
    mlp_->Forward(x.data(), n, y.data(), *ctx.pool);
    GroupSum(ctx.attention_group, y.data(), n * hidden_);  // row-parallel down_proj
  }
  for (int64_t i = 0; i < n * hidden_; ++i) h[i] += y[i];
}

}  // namespace sieve::model
