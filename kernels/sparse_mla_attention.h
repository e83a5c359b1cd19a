// The core of absorbed MLA attention for one query head over a chosen set of cached tokens (DeepSeek-V3.2-Exp
// inference/model.py, MLA.forward, decode branch, restricted to the indexer's top-k as DSA does):
//   score[s] = (q_latent . latent[s] + q_rope . k_rope[s]) * softmax_scale     for s in selected
//   p = softmax(score);  out = sum_s p[s] * latent[s]
// Tokens outside `selected` get exactly zero weight.
#pragma once

#include <cstdint>

namespace sieve::kernels {

struct LatentCache {
  const float* latent = nullptr;  // [n_tokens, kv_lora_rank]
  const float* k_rope = nullptr;  // [n_tokens, qk_rope_head_dim]
  int64_t kv_lora_rank = 0;
  int64_t qk_rope_head_dim = 0;
};

// q_latent [kv_lora_rank], q_rope [qk_rope_head_dim], selected [n_selected] token indices into `cache`,
// scores [n_selected] scratch, out [kv_lora_rank].
void SparseMlaHead(const float* q_latent, const float* q_rope, const LatentCache& cache, const int32_t* selected,
                   int64_t n_selected, float softmax_scale, float* scores, float* out);

}  // namespace sieve::kernels
