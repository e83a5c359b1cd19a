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

// `count` heads of one query: q_latent [count, kv_lora_rank] and out [count, kv_lora_rank] rows back to
// back, q_rope rows q_rope_stride floats apart.
struct MlaQueryHeads {
  const float* q_latent = nullptr;
  const float* q_rope = nullptr;
  int64_t q_rope_stride = 0;
  float* out = nullptr;
  int64_t count = 0;
};

// SparseMlaHead for each of `heads` over the same selected tokens, with each head's bits unchanged (the
// same operations in the same order per head), but key by key: a selected token's latent is dotted with
// every head's query, and later added to every head's output, while it is in L1. Head by head, each head
// would re-read all of them (2,048 keys x 2 KiB = 4 MiB per layer at 32K context with DSA, beyond L2).
// scores [count, n_selected] scratch.
void SparseMlaHeads(const MlaQueryHeads& heads, const LatentCache& cache, const int32_t* selected, int64_t n_selected,
                    float softmax_scale, float* scores);

// SparseMlaHeads in two parts, for a caller that splits the first over keys and the second over heads (a
// decode query scores each key on the thread that just gathered it: MlaAttention), with the same bits.
// SparseMlaScores: scores[h * n_selected + i] for i in [begin, end) and every head, scaled, not normalised.
void SparseMlaScores(const MlaQueryHeads& heads, const LatentCache& cache, const int32_t* selected, int64_t n_selected,
                     int64_t begin, int64_t end, float softmax_scale, float* scores);
// SparseMlaAttendScored: from all n_selected scores of each head (scores [count, n_selected], overwritten by
// the softmax weights), heads.out; it is SparseMlaSoftmax, then SparseMlaWeightedSum over all columns.
void SparseMlaAttendScored(const MlaQueryHeads& heads, const LatentCache& cache, const int32_t* selected,
                           int64_t n_selected, float* scores);
// Each of `count` rows of n_selected scores [count, n_selected] becomes its softmax weights, in place.
void SparseMlaSoftmax(float* scores, int64_t count, int64_t n_selected);
// Columns [col_begin, col_end) of heads.out from the weights p [heads.count, n_selected]: col_begin a
// multiple of 16 (a whole number of vectors on every target), so any split of the columns gives the bits
// of one call over all of them.
void SparseMlaWeightedSum(const MlaQueryHeads& heads, const LatentCache& cache, const int32_t* selected,
                          int64_t n_selected, const float* p, int64_t col_begin, int64_t col_end);

}  // namespace sieve::kernels
