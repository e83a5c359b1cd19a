// AVX512-BF16 FP8 index scores (see index_score_bf16_dot.h). Compiled for that instruction set with a
// function attribute and called only after HasBf16DotInstruction(), so the rest of the build keeps its
// baseline. Heads are the vector lanes, as in kernels/index_score.cpp: 4 keys x 4 vectors of 16 heads are
// 16 accumulators; each step of the dot loads one pair of query elements for 16 heads and broadcasts the
// matching pair of each key. The order of operations is kernels/cpu/index_fp8_order.h's.
#include "kernels/cpu/index_score_bf16_dot.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#if defined(__x86_64__)
// GCC 12's avx512fintrin.h builds results on `__m512 __Y = __Y;` (_mm512_undefined_ps), which its own
// -Wmaybe-uninitialized reports once inlined into this file's functions.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <immintrin.h>

#define SIEVE_BF16_DOT_TARGET __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,avx512bf16")))

namespace sieve::kernels {

namespace {

constexpr int kKeys = 4;
constexpr int kHeadVecs = 4;
constexpr int kMaxPairs = 128;  // head_dim <= 256
constexpr int64_t kPrefetchKeys = 8;

// e4m3 codes -> bf16, 32 per step in 16-bit lanes. The byte sign-extended to 16 bits carries the sign in
// bit 15; a normal magnitude m (exponent field >= 1) is (m << 4) + (120 << 7), the 4-bit exponent
// rebiased from 7 to bf16's 127 and the 3 mantissa bits moved to bf16's top 3; the 8 subnormal magnitudes
// (m * 2^-9) come from a table. Exact (bf16 holds every e4m3 value). Returns whether a code is NaN
// (0x7f / 0xff), which this decode does not represent.
SIEVE_BF16_DOT_TARGET bool DecodeKeyPairs(const uint8_t* codes, int64_t head_dim, uint32_t* pairs) {
  const __m512i subnormals = _mm512_set_epi16(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                                              0, 0, 0x3C60, 0x3C40, 0x3C20, 0x3C00, 0x3BC0, 0x3B80, 0x3B00, 0);
  const __m512i magnitude_bits = _mm512_set1_epi16(0x7f);
  const __m512i first_normal = _mm512_set1_epi16(8);
  const __m512i rebias = _mm512_set1_epi16(120 << 7);
  const __m512i sign_bit = _mm512_set1_epi16(static_cast<int16_t>(0x8000));
  __mmask32 nan = 0;
  for (int64_t d = 0; d < head_dim; d += 32) {
    const __m512i wide = _mm512_cvtepi8_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(codes + d)));
    const __m512i magnitude = _mm512_and_si512(wide, magnitude_bits);
    nan |= _mm512_cmpeq_epi16_mask(magnitude, magnitude_bits);
    const __m512i normal = _mm512_add_epi16(_mm512_slli_epi16(magnitude, 4), rebias);
    const __mmask32 subnormal = _mm512_cmplt_epu16_mask(magnitude, first_normal);
    const __m512i value = _mm512_mask_permutexvar_epi16(normal, subnormal, magnitude, subnormals);
    _mm512_storeu_si512(pairs + d / 2, _mm512_or_si512(value, _mm512_and_si512(wide, sign_bit)));
  }
  return nan != 0;
}

// The 16 lanes summed by index_fp8_order.h's halving tree: lane l + 8 onto l, then l + 4, l + 2, l + 1.
SIEVE_BF16_DOT_TARGET inline float SumLanes(__m512 v) {
  const __m256 eight = _mm256_add_ps(_mm512_castps512_ps256(v), _mm512_extractf32x8_ps(v, 1));
  const __m128 four = _mm_add_ps(_mm256_castps256_ps128(eight), _mm256_extractf128_ps(eight, 1));
  const __m128 two = _mm_add_ps(four, _mm_movehl_ps(four, four));
  return _mm_cvtss_f32(_mm_add_ss(two, _mm_movehdup_ps(two)));
}

// lanes[j] += sum over the G head vectors from h0 of w * ReLU(dot), for the K keys' pairs kp[j].
template <int K, int G>
SIEVE_BF16_DOT_TARGET inline void AccumulateHeads(const uint32_t* q_pairs, const float* w, int64_t heads_padded,
                                                  int64_t h0, int64_t n_pairs, const uint32_t (*kp)[kMaxPairs],
                                                  __m512* lanes) {
  __m512 acc[K][G];
  for (int j = 0; j < K; ++j)
    for (int g = 0; g < G; ++g) acc[j][g] = _mm512_setzero_ps();
  for (int64_t p = 0; p < n_pairs; ++p) {
    __m512bh q[G];
    for (int g = 0; g < G; ++g)
      q[g] = reinterpret_cast<__m512bh>(_mm512_loadu_si512(q_pairs + p * heads_padded + h0 + 16 * g));
    for (int j = 0; j < K; ++j) {
      const __m512bh k = reinterpret_cast<__m512bh>(_mm512_set1_epi32(static_cast<int>(kp[j][p])));
      for (int g = 0; g < G; ++g) acc[j][g] = _mm512_dpbf16_ps(acc[j][g], q[g], k);
    }
  }
  const __m512 zero = _mm512_setzero_ps();
  for (int j = 0; j < K; ++j)
    for (int g = 0; g < G; ++g)
      lanes[j] = _mm512_fmadd_ps(_mm512_max_ps(acc[j][g], zero), _mm512_loadu_ps(w + h0 + 16 * g), lanes[j]);
}

template <int K>
SIEVE_BF16_DOT_TARGET inline void ScoreKeys(const uint32_t* q_pairs, const float* w, int64_t heads_padded,
                                            int64_t head_dim, const IndexKeyRows& keys, int64_t s, float* scores) {
  alignas(64) uint32_t kp[K][kMaxPairs];
  bool nan[K];
  float scale[K];
  for (int j = 0; j < K; ++j) {
    const int64_t p = s + j;
    const uint8_t* row = keys.Row(p);
    nan[j] = DecodeKeyPairs(row, head_dim, kp[j]);
    std::memcpy(&scale[j], row + keys.format.scale_offset, sizeof(float));
  }
  __m512 lanes[K];
  for (int j = 0; j < K; ++j) lanes[j] = _mm512_setzero_ps();
  const int64_t n_pairs = head_dim / 2;
  int64_t h0 = 0;
  for (; h0 + 16 * kHeadVecs <= heads_padded; h0 += 16 * kHeadVecs)
    AccumulateHeads<K, kHeadVecs>(q_pairs, w, heads_padded, h0, n_pairs, kp, lanes);
  for (; h0 < heads_padded; h0 += 16) AccumulateHeads<K, 1>(q_pairs, w, heads_padded, h0, n_pairs, kp, lanes);
  for (int j = 0; j < K; ++j) scores[j] = nan[j] ? std::numeric_limits<float>::quiet_NaN() : SumLanes(lanes[j]) * scale[j];
}

}  // namespace

SIEVE_BF16_DOT_TARGET void IndexScoresBf16Dot(const uint32_t* q_pairs, const float* w, int64_t heads_padded,
                                              int64_t head_dim, const IndexKeyRows& keys, int64_t key_begin,
                                              int64_t key_end, float* scores) {
  int64_t s = key_begin;
  for (; s + kKeys <= key_end; s += kKeys) {
    // The rows kPrefetchKeys ahead: a block's rows are contiguous, but the next block of a sequence can
    // be anywhere, and the first use of a row's codes was the kernel's hottest instruction (a cache miss).
    for (int64_t p = s + kPrefetchKeys; p < std::min(s + kPrefetchKeys + kKeys, key_end); ++p) {
      const uint8_t* row = keys.Row(p);
      for (int64_t line = 0; line < keys.format.row_bytes; line += 64) _mm_prefetch(reinterpret_cast<const char*>(row + line), _MM_HINT_T0);
    }
    ScoreKeys<kKeys>(q_pairs, w, heads_padded, head_dim, keys, s, scores + (s - key_begin));
  }
  for (; s < key_end; ++s) ScoreKeys<1>(q_pairs, w, heads_padded, head_dim, keys, s, scores + (s - key_begin));
}

}  // namespace sieve::kernels

#else  // not x86-64: the portable kernel always runs

namespace sieve::kernels {
void IndexScoresBf16Dot(const uint32_t*, const float*, int64_t, int64_t, const IndexKeyRows&, int64_t, int64_t,
                        float*) {}
}  // namespace sieve::kernels

#endif
