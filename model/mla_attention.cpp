// MLA forward in absorbed form (see mla_attention.h). Per head h, with W_uk[h] = kv_b rows [h*(nope+v), +nope)
// and W_uv[h] = the next v rows:
//   q_latent[t,h] = q_nope[t,h] . W_uk[h]                                   [kv_lora_rank]
//   score[t,h,s]  = (q_latent[t,h] . latent[s] + q_rope[t,h] . k_rope[s]) * softmax_scale
//   o[t,h]        = W_uv[h] . sum_s softmax(score)[s] * latent[s]            [v_head_dim]
// which equals the expanded form q.[k_nope|k_rope], p.v exactly in real arithmetic (the reference's decode branch).
#include "model/mla_attention.h"

#include <algorithm>
#include <numeric>

#include "kernels/matmul.h"
#include "kernels/norm.h"
#include "kernels/sparse_mla_attention.h"
#include "model/group_sum.h"
#include "model/tensor_names.h"
#include "model/weight_views.h"

namespace sieve::model {

MlaAttention::MlaAttention(const Checkpoint& ckpt, int64_t layer, const YarnRope& rope, const ModelShard& shard)
    : rope_(rope) {
  const ModelConfig& c = ckpt.config();
  const std::string p = LayerPrefix(layer) + "self_attn.";
  n_heads_ = shard.heads.count;
  const int64_t h0 = shard.heads.begin;
  q_lora_rank_ = c.q_lora_rank;
  kv_lora_rank_ = c.kv_lora_rank;
  nope_dim_ = c.qk_nope_head_dim;
  rope_dim_ = c.qk_rope_head_dim;
  v_dim_ = c.v_head_dim;
  eps_ = static_cast<float>(c.rms_norm_eps);
  if (q_lora_rank_ > 0) {
    q_a_ = LinearMatrix(ckpt.Linear(p + "q_a_proj"));
    q_a_norm_ = FloatVector(ckpt.Get(p + "q_a_layernorm.weight"));
    q_b_ = LinearMatrix(ckpt.Linear(p + "q_b_proj")).Rows(h0 * c.qk_head_dim(), n_heads_ * c.qk_head_dim());
  } else {
    q_proj_ = LinearMatrix(ckpt.Linear(p + "q_proj")).Rows(h0 * c.qk_head_dim(), n_heads_ * c.qk_head_dim());
  }
  kv_a_ = LinearMatrix(ckpt.Linear(p + "kv_a_proj_with_mqa"));
  kv_a_norm_ = FloatVector(ckpt.Get(p + "kv_a_layernorm.weight"));
  const int64_t kv_b_rows = nope_dim_ + v_dim_;
  kv_b_ = LinearMatrix(ckpt.Linear(p + "kv_b_proj")).Rows(h0 * kv_b_rows, n_heads_ * kv_b_rows);
  o_ = LinearMatrix(ckpt.Linear(p + "o_proj")).Cols(h0 * v_dim_, n_heads_ * v_dim_);
  if (c.has_indexer()) indexer_ = std::make_unique<Indexer>(ckpt, p + "indexer", rope, shard.index_heads);
}

void MlaAttention::Forward(const StepTokens& step, const float* x, int64_t cache_layer, PagedKvCache& cache,
                           const ForwardContext& ctx, float* out) const {
  kernels::ThreadPool& pool = *ctx.pool;
  const int64_t n = step.n_tokens(), heads = n_heads_, c = kv_lora_rank_;
  const int64_t qk_dim = nope_dim_ + rope_dim_, kv_b_rows = nope_dim_ + v_dim_;

  // Queries: [n, heads, nope | rope], rope part rotated as interleaved pairs.
  std::vector<float> qr;  // [n, q_lora_rank]: q latent, also the indexer's query input
  std::vector<float> q(n * heads * qk_dim);
  if (q_lora_rank_ > 0) {
    qr.resize(n * q_lora_rank_);
    kernels::Matmul(q_a_, x, n, qr.data(), pool);
    kernels::RmsNorm(qr.data(), q_a_norm_.data(), n, q_lora_rank_, eps_, qr.data());
    kernels::Matmul(q_b_, qr.data(), n, q.data(), pool);
  } else {
    kernels::Matmul(q_proj_, x, n, q.data(), pool);
  }
  for (int64_t t = 0; t < n; ++t)
    for (int64_t h = 0; h < heads; ++h) rope_.RotateInterleaved(q.data() + (t * heads + h) * qk_dim + nope_dim_, step.positions[t]);

  // Keys: [n, latent | k_rope]; the latent is normalised, the rope key rotated; both go to the cache.
  std::vector<float> kv(n * (c + rope_dim_));
  kernels::Matmul(kv_a_, x, n, kv.data(), pool);
  for (int64_t s = 0; s < step.n_seqs(); ++s)
    for (int64_t t = step.seq_begin[s]; t < step.seq_begin[s + 1]; ++t) {
      float* latent = kv.data() + t * (c + rope_dim_);
      kernels::RmsNorm(latent, kv_a_norm_.data(), 1, c, eps_, latent);
      rope_.RotateInterleaved(latent + c, step.positions[t]);
      const CacheSlot slot = step.Slot(s, step.positions[t]);
      cache.WriteLatent(cache_layer, slot.block, slot.slot, latent, latent + c);
    }

  // Which cached tokens each query attends to: the indexer's top-k, or every causal token.
  std::vector<std::vector<int32_t>> selected;
  if (indexer_) {
    indexer_->WriteKeys(step, x, cache_layer, cache, ctx);
    if (!ctx.dense_attention) selected = indexer_->Select(step, x, qr.empty() ? x : qr.data(), cache_layer, cache, ctx);
  }
  if (selected.empty()) {
    selected.resize(n);
    for (int64_t t = 0; t < n; ++t) {
      selected[t].resize(step.positions[t] + 1);
      std::iota(selected[t].begin(), selected[t].end(), 0);
    }
  }

  // Absorb W_uk into the queries: q_latent [n, heads, kv_lora_rank].
  std::vector<float> q_latent(n * heads * c), head_in(n * std::max(nope_dim_, c)), head_out(n * std::max(c, v_dim_));
  for (int64_t h = 0; h < heads; ++h) {
    for (int64_t t = 0; t < n; ++t)
      std::copy_n(q.data() + (t * heads + h) * qk_dim, nope_dim_, head_in.data() + t * nope_dim_);
    kernels::MatmulTransposed(kv_b_.Rows(h * kv_b_rows, nope_dim_), head_in.data(), n, head_out.data(), pool);
    for (int64_t t = 0; t < n; ++t) std::copy_n(head_out.data() + t * c, c, q_latent.data() + (t * heads + h) * c);
  }

  // Attention over the latent cache: o_latent [n, heads, kv_lora_rank].
  std::vector<float> o_latent(n * heads * c);
  for (int64_t s = 0; s < step.n_seqs(); ++s) {
    const int64_t context = step.context_len(s);
    const int64_t begin = step.seq_begin[s];
    // Only the keys some token of this sequence attends to are read from the cache (with DSA at most
    // index_topk per token, so a decode step's attention stops growing with the context). Positions are
    // renumbered in increasing order, so each head still visits its keys in the same order.
    std::vector<int32_t> row_of(context, -1);  // position -> row of `latents`, -1 when unused
    for (int64_t t = begin; t < step.seq_begin[s + 1]; ++t)
      for (int32_t p : selected[t]) row_of[p] = 0;
    int32_t used = 0;
    for (int32_t& r : row_of)
      if (r >= 0) r = used++;
    std::vector<float> latents(used * c), k_ropes(used * rope_dim_);  // [used, c], [used, rope]
    for (int64_t p = 0; p < context; ++p) {
      if (row_of[p] < 0) continue;
      const CacheSlot slot = step.Slot(s, p);
      cache.ReadLatent(cache_layer, slot.block, slot.slot, latents.data() + row_of[p] * c,
                       k_ropes.data() + row_of[p] * rope_dim_);
    }
    for (int64_t t = begin; t < step.seq_begin[s + 1]; ++t)
      for (int32_t& p : selected[t]) p = row_of[p];
    const kernels::LatentCache view{latents.data(), k_ropes.data(), c, rope_dim_};
    pool.ParallelFor((step.seq_begin[s + 1] - begin) * heads, [&](int64_t i0, int64_t i1) {
      std::vector<float> scores(context);
      for (int64_t i = i0; i < i1; ++i) {
        const int64_t t = begin + i / heads, h = i % heads;
        const std::vector<int32_t>& keep = selected[t];
        kernels::SparseMlaHead(q_latent.data() + (t * heads + h) * c, q.data() + (t * heads + h) * qk_dim + nope_dim_,
                               view, keep.data(), static_cast<int64_t>(keep.size()), rope_.mla_softmax_scale(),
                               scores.data(), o_latent.data() + (t * heads + h) * c);
      }
    });
  }

  // Apply W_uv per head: o [n, heads, v_head_dim], then the output projection.
  std::vector<float> o(n * heads * v_dim_);
  for (int64_t h = 0; h < heads; ++h) {
    for (int64_t t = 0; t < n; ++t) std::copy_n(o_latent.data() + (t * heads + h) * c, c, head_in.data() + t * c);
    kernels::Matmul(kv_b_.Rows(h * kv_b_rows + nope_dim_, v_dim_), head_in.data(), n, head_out.data(), pool);
    for (int64_t t = 0; t < n; ++t) std::copy_n(head_out.data() + t * v_dim_, v_dim_, o.data() + (t * heads + h) * v_dim_);
  }
  kernels::Matmul(o_, o.data(), n, out, pool);
  GroupSum(ctx.attention_group, out, n * o_.rows);
}

}  // namespace sieve::model
