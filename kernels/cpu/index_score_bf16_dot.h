// FP8 lightning-indexer scores with the AVX512-BF16 dot-product instruction (vdpbf16ps: 32 multiply-adds
// per instruction against 16 for an fp32 FMA). e4m3 values are exact in bf16 and their products exact in
// fp32, so it gives the bits of the portable kernel (kernels/cpu/index_fp8_order.h has the shared order).
// No library scores an indexer on a CPU, hence the hand-written kernel.
#pragma once

#include <cstdint>

#include "kernels/cpu/bf16_dot.h"
#include "kernels/index_score.h"

namespace sieve::kernels {

// q_pairs [head_dim / 2, heads_padded]: element p of head h holds the bf16 of query code values 2p (low
// half) and 2p + 1 (high half); w [heads_padded] the head weights times the query scales; heads_padded a
// multiple of 16, head_dim of 32; keys e4m3 rows (IndexKeyType::kFP8). Keys with a NaN code score NaN.
void IndexScoresBf16Dot(const uint32_t* q_pairs, const float* w, int64_t heads_padded, int64_t head_dim,
                        const IndexKeyRows& keys, int64_t key_begin, int64_t key_end, float* scores);

}  // namespace sieve::kernels
