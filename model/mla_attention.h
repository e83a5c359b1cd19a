// MlaAttention: Multi-head Latent Attention (DeepSeek-V2 paper sec. 2.1; DeepSeek-V3.2-Exp inference/model.py,
// class MLA) with DSA's sparse selection when the layer has an indexer. The cache holds only the normalised
// kv latent and the shared rope key per token; each sequence's step attends in the absorbed form (kv_b_proj's
// key half folded into q, its value half applied after the weighted sum: decode, short chunks) or in the
// expanded form (the cached latents expanded to per-head keys and values: long prefill chunks), whichever
// needs fewer FLOPs (model/mla_form.h).
#pragma once

#include <functional>
#include <memory>
#include <span>
#include <vector>

#include "kernels/weight_matrix.h"
#include "model/checkpoint.h"
#include "model/forward_context.h"
#include "model/indexer.h"
#include "model/model_shard.h"
#include "model/paged_kv_cache.h"
#include "model/step_tokens.h"
#include "model/yarn_rope.h"

namespace sieve::model {

class MlaAttention {
 public:
  // `layer`: checkpoint layer index; `rope` outlives the attention. Computes the heads in `shard.heads`
  // (and the indexer heads in `shard.index_heads`); the latent and rope key are shared by all heads, so
  // every rank computes and caches them whole.
  MlaAttention(const Checkpoint& ckpt, int64_t layer, const YarnRope& rope, const ModelShard& shard);
  // x [n, hidden] (attention-normed) -> out [n, hidden], summed over the attention-TP group (o_proj is
  // row-parallel: the output is a sum over heads); writes the new tokens' cache entries first.
  void Forward(const StepTokens& step, const float* x, int64_t cache_layer, PagedKvCache& cache,
               const ForwardContext& ctx, float* out) const;

 private:
  // The rows attending in the absorbed form: their absorbed queries and latent outputs, [rows, heads, kv_lora_rank].
  struct AbsorbedQueries {
    std::vector<int64_t> tokens;  // token rows, ascending
    std::vector<int64_t> index;   // [n_tokens] -> position in `tokens`, -1 for rows of expanded sequences
    std::vector<float> q_latent, o_latent;
  };
  // q [n, heads, nope | rope] -> the absorbed queries of the sequences not `expanded`.
  AbsorbedQueries AbsorbQueries(const StepTokens& step, const std::vector<bool>& expanded, const float* q,
                                kernels::ThreadPool& pool) const;
  // One sequence's rows from `first_token` on, absorbed: fills their o_latent. latents [keys, kv_lora_rank],
  // k_ropes [keys, rope]: the gathered cache rows `keys` index; q: the sequence's rows of q.
  void AttendAbsorbed(AbsorbedQueries& a, int64_t first_token, const float* latents, const float* k_ropes,
                      std::span<const std::vector<int32_t>> keys, const float* q, kernels::ThreadPool& pool) const;
  // A sequence of one query (a decode step), absorbed: `gather_rows(r0, r1)` writes rows [r0, r1) of
  // latents / k_ropes; each thread gathers a run of rows and scores them for every head while they are in
  // its caches, then the heads' softmax and the weighted sums (split by columns) run over the pool. `keys`: the query's rows (all
  // of them), in order.
  void AttendOneQuery(AbsorbedQueries& a, int64_t token, const std::function<void(int64_t, int64_t)>& gather_rows,
                      const float* latents, const float* k_ropes, const std::vector<int32_t>& keys, const float* q,
                      kernels::ThreadPool& pool) const;
  // One sequence's rows, expanded: o [queries, heads, v_head_dim] from q [queries, heads, nope | rope].
  void AttendExpanded(const float* q, const float* latents, const float* k_ropes, int64_t n_keys,
                      std::span<const std::vector<int32_t>> keys, float* o, kernels::ThreadPool& pool) const;
  // o [n, heads, v_head_dim] of the absorbed rows from their o_latent.
  void ApplyValueHalf(const AbsorbedQueries& a, float* o, kernels::ThreadPool& pool) const;

  ModelConfig config_;
  const YarnRope& rope_;
  int64_t n_heads_;  // this rank's heads
  int64_t q_lora_rank_, kv_lora_rank_, nope_dim_, rope_dim_, v_dim_;
  float eps_;
  kernels::WeightMatrix q_a_, q_b_;     // [q_lora_rank, hidden], [n_heads * (nope + rope), q_lora_rank] (local heads)
  kernels::WeightMatrix q_proj_;        // [n_heads * (nope + rope), hidden] when q_lora_rank == 0 (local heads)
  std::vector<float> q_a_norm_;         // [q_lora_rank]
  kernels::WeightMatrix kv_a_;          // [kv_lora_rank + rope, hidden]: [latent | k_rope]
  std::vector<float> kv_a_norm_;        // [kv_lora_rank]
  kernels::WeightMatrix kv_b_;          // [n_heads * (nope + v), kv_lora_rank]: per local head [k_nope | v]
  kernels::WeightMatrix o_;             // [hidden, n_heads * v]: the local heads' input columns
  std::vector<kernels::WeightMatrix> w_uk_, w_uv_;  // per local head: kv_b_'s [nope, c] and [v, c] row slices
  std::unique_ptr<Indexer> indexer_;    // null in the V3 / V3.1 layout (dense MLA)
};

}  // namespace sieve::model
