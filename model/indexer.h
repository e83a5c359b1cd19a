// Indexer: the DeepSeek Sparse Attention lightning indexer (DeepSeek-V3.2-Exp report sec. 2.1;
// inference/model.py, class Indexer). Per token it caches one key k = Hadamard(RoPE(LayerNorm(wk x))), and
// per query it scores every causal key, I[t,s] = sum_h w[t,h] * ReLU(q[t,h] . k[s]), keeping the top
// `index_topk` positions for MLA to attend to.
#pragma once

#include <string>
#include <vector>

#include "kernels/weight_matrix.h"
#include "model/checkpoint.h"
#include "model/forward_context.h"
#include "model/paged_kv_cache.h"
#include "parallel/parallel_layout.h"
#include "model/step_tokens.h"
#include "model/yarn_rope.h"

namespace sieve::model {

class Indexer {
 public:
  // prefix "model.layers.L.self_attn.indexer"; `rope` outlives the indexer. `heads`: the index heads this
  // rank scores; the score is a sum over heads (V3.2 report eq. 1), so the partial scores are summed over
  // the attention-TP group before the top-k, which then sees the exact total on every rank.
  Indexer(const Checkpoint& ckpt, const std::string& prefix, const YarnRope& rope, parallel::ShardRange heads);

  // Computes the new tokens' index keys from x [n, hidden] and writes them to the cache.
  void WriteKeys(const StepTokens& step, const float* x, int64_t cache_layer, PagedKvCache& cache,
                 const ForwardContext& ctx) const;
  // For each token row, the cached positions its attention uses, ascending: all of 0..pos while
  // pos < index_topk, else the index_topk positions with the highest index score. Selection is purely
  // by score (neither the query's own position nor the first token is forced in); ties go to the lower
  // position. x [n, hidden], qr [n, q_lora_rank] (MLA's normalised q latent). Keys must be written first.
  std::vector<std::vector<int32_t>> Select(const StepTokens& step, const float* x, const float* qr,
                                           int64_t cache_layer, const PagedKvCache& cache,
                                           const ForwardContext& ctx) const;

 private:
  const YarnRope& rope_;
  kernels::WeightMatrix wq_b_;          // [n_heads * head_dim, q_lora_rank] (local heads)
  kernels::WeightMatrix wk_;            // [head_dim, hidden]
  kernels::WeightMatrix weights_proj_;  // [n_heads, hidden] (local heads)
  std::vector<float> k_norm_weight_, k_norm_bias_;  // [head_dim]
  int64_t n_heads_;      // this rank's heads
  int64_t total_heads_;  // index_n_heads: the head weights' n_heads^-0.5 uses all of them
  int64_t head_dim_, rope_dim_, topk_;
};

}  // namespace sieve::model
