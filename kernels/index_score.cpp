// Lightning-indexer scores (see index_score.h), compiled once per Highway target and dispatched at
// runtime. The heads are the vector lanes: q is transposed once per call to qt [head_dim, heads], so a
// block of keys is a small GEMM [keys x head_dim] . [head_dim x heads] whose accumulators already hold
// one (key, head) dot product per lane. ReLU and the head weights then apply lane-wise, and each key
// needs a single horizontal sum (instead of one per head, as 64 separate dot products would).
// Keys are read in place from the paged cache's index-key rows (no copy into a contiguous fp32 buffer);
// bf16 / fp8 keys are decoded a few rows at a time into a buffer that stays in L1, so only their 2 / 1
// bytes per element come from memory. With fp8 KV this took a 32K-context decode step of the `small`
// preset from 198 to 115 ms (medians of 3 pairs); with fp32 KV it changed nothing measurable
// (docs/performance.md, round 4).
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/index_score.cpp"
#include <hwy/foreach_target.h>  // must come before highway.h
#include <hwy/aligned_allocator.h>
#include <hwy/highway.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <limits>

#include "core/act_quant.h"
#include "core/dtype.h"
#include "core/logging.h"
#include "kernels/cpu/decode_lanes-inl.h"
#include "kernels/cpu/index_fp8_order.h"
#include "kernels/cpu/index_score_bf16_dot.h"
#include "kernels/index_score.h"
#include "kernels/machine_limits.h"

namespace sieve::kernels {
// Whether IndexScoresFp8 runs the bf16 dot kernel (SetFp8IndexKernel's setting; defined once, below).
bool Fp8IndexRunsBf16Dot();
}  // namespace sieve::kernels

HWY_BEFORE_NAMESPACE();
namespace sieve::kernels::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// Keys scored together: each loaded qt vector feeds kKeys FMAs (4 keys x 4 head vectors = 16 accumulators,
// half the AVX-512 register file).
constexpr int kKeys = 4;
constexpr int kHeadVecs = 4;

// hsum[j] += sum over head vectors g of w_g * ReLU(acc_g), for keys j < K, with acc_g the dots of key j
// with heads [h0 + g * lanes, h0 + (g + 1) * lanes). Per (key, head) lane the dot is summed over d in
// order, and the head vectors are added in order, whatever K or G: results do not depend on the blocking.
template <int K, int G, class D>
HWY_INLINE void AccumulateHeads(D df, const float* qt, int64_t heads_padded, const float* w, int64_t h0,
                                int64_t head_dim, const float* const* key, hn::Vec<D>* hsum) {
  const int64_t lanes = static_cast<int64_t>(hn::Lanes(df));
  hn::Vec<D> acc[K][G];
  for (int j = 0; j < K; ++j)
    for (int g = 0; g < G; ++g) acc[j][g] = hn::Zero(df);
  for (int64_t d = 0; d < head_dim; ++d) {
    hn::Vec<D> q[G];
    for (int g = 0; g < G; ++g) q[g] = hn::Load(df, qt + d * heads_padded + h0 + g * lanes);
    for (int j = 0; j < K; ++j) {
      const auto k = hn::Set(df, key[j][d]);
      for (int g = 0; g < G; ++g) acc[j][g] = hn::MulAdd(k, q[g], acc[j][g]);
    }
  }
  for (int j = 0; j < K; ++j)
    for (int g = 0; g < G; ++g)
      hsum[j] = hn::MulAdd(hn::Max(acc[j][g], hn::Zero(df)), hn::Load(df, w + h0 + g * lanes), hsum[j]);
}

// Scores of the K keys key[0..K).
template <int K, class D>
HWY_INLINE void ScoreKeys(D df, const float* qt, const float* w, int64_t heads_padded, int64_t head_dim,
                          const float* const* key, float* scores) {
  const int64_t lanes = static_cast<int64_t>(hn::Lanes(df));
  hn::Vec<D> hsum[K];
  for (int j = 0; j < K; ++j) hsum[j] = hn::Zero(df);
  int64_t h0 = 0;
  for (; h0 + kHeadVecs * lanes <= heads_padded; h0 += kHeadVecs * lanes)
    AccumulateHeads<K, kHeadVecs>(df, qt, heads_padded, w, h0, head_dim, key, hsum);
  for (; h0 < heads_padded; h0 += lanes) AccumulateHeads<K, 1>(df, qt, heads_padded, w, h0, head_dim, key, hsum);
  for (int j = 0; j < K; ++j) scores[j] = hn::GetLane(hn::SumOfLanes(df, hsum[j]));
}

// Key row p (fp32 or bf16) as fp32: in place for kF32; for kBF16 decoded into `buffer` [head_dim], exactly
// as the cache's ReadIndexKey decodes it (the top half of the float).
template <class D>
HWY_INLINE const float* KeyRow(D df, const IndexKeyRows& keys, int64_t head_dim, int64_t p, float* buffer) {
  const uint8_t* row = keys.Row(p);
  const int64_t lanes = static_cast<int64_t>(hn::Lanes(df));
  int64_t d = 0;
  switch (keys.format.type) {
    case IndexKeyType::kF32: return reinterpret_cast<const float*>(row);
    case IndexKeyType::kBF16: {
      const auto* codes = reinterpret_cast<const uint16_t*>(row);
      for (; d + lanes <= head_dim; d += lanes) hn::StoreU(Bf16Lanes(df, codes + d), df, buffer + d);
      for (; d < head_dim; ++d) buffer[d] = Bf16ToFloat(codes[d]);
      return buffer;
    }
    case IndexKeyType::kFP8: break;  // scored by IndexScoresFp8 below
  }
  return buffer;
}

// ---- fp8 keys: the reference's FP8 numerics in the order of kernels/cpu/index_fp8_order.h ----

// Row p's codes, and its scale.
HWY_INLINE const uint8_t* KeyCodes(const IndexKeyRows& keys, int64_t p, float* scale) {
  const uint8_t* row = keys.Row(p);
  std::memcpy(scale, row + keys.format.scale_offset, sizeof(float));
  return row;
}

// lanes[j] [16] += w * ReLU(dot) over the G head vectors from h0 (of `lanes(df)` heads each, whose virtual
// lanes are h % 16), for the K keys key[j] (their code values as fp32).
template <int K, int G, class D>
HWY_INLINE void AccumulateFp8Heads(D df, const float* qt, int64_t heads_padded, const float* w, int64_t h0,
                                   int64_t head_dim, const float* const* key, float (*lanes)[kIndexLanes]) {
  const int64_t n = static_cast<int64_t>(hn::Lanes(df));
  hn::Vec<D> acc[K][G];
  for (int j = 0; j < K; ++j)
    for (int g = 0; g < G; ++g) acc[j][g] = hn::Zero(df);
  for (int64_t d = 0; d < head_dim; d += 2) {
    hn::Vec<D> q_odd[G], q_even[G];
    for (int g = 0; g < G; ++g) {
      q_odd[g] = hn::Load(df, qt + (d + 1) * heads_padded + h0 + g * n);
      q_even[g] = hn::Load(df, qt + d * heads_padded + h0 + g * n);
    }
    for (int j = 0; j < K; ++j) {
      const auto k_odd = hn::Set(df, key[j][d + 1]);
      const auto k_even = hn::Set(df, key[j][d]);
      for (int g = 0; g < G; ++g) acc[j][g] = hn::MulAdd(k_even, q_even[g], hn::MulAdd(k_odd, q_odd[g], acc[j][g]));
    }
  }
  for (int j = 0; j < K; ++j)
    for (int g = 0; g < G; ++g) {
      float* lane = lanes[j] + (h0 + g * n) % kIndexLanes;
      const auto relu = hn::Max(acc[j][g], hn::Zero(df));
      hn::StoreU(hn::MulAdd(relu, hn::Load(df, w + h0 + g * n), hn::LoadU(df, lane)), df, lane);
    }
}

// Scores of keys [s, s + K): codes decoded to their values (exact), scaled after the head sum.
template <int K, class D>
HWY_INLINE void ScoreFp8Keys(D df, const float* qt, const float* w, int64_t heads_padded, int64_t head_dim,
                             const IndexKeyRows& keys, int64_t s, float* decoded, float* scores) {
  const int64_t n = static_cast<int64_t>(hn::Lanes(df));
  const auto unbias = hn::Set(df, kE4m3Unbias);
  const float* key[K];
  float scale[K];
  bool nan[K];
  for (int j = 0; j < K; ++j) {
    const uint8_t* codes = KeyCodes(keys, s + j, &scale[j]);
    nan[j] = HasE4m3Nan(codes, head_dim);
    float* out = decoded + j * head_dim;
    for (int64_t d = 0; d < head_dim; d += n) hn::StoreU(hn::Mul(E4m3CodeLanes(df, codes + d), unbias), df, out + d);
    key[j] = out;
  }
  HWY_ALIGN float lanes[K][kIndexLanes] = {};
  int64_t h0 = 0;
  for (; h0 + kHeadVecs * n <= heads_padded; h0 += kHeadVecs * n)
    AccumulateFp8Heads<K, kHeadVecs>(df, qt, heads_padded, w, h0, head_dim, key, lanes);
  for (; h0 < heads_padded; h0 += n) AccumulateFp8Heads<K, 1>(df, qt, heads_padded, w, h0, head_dim, key, lanes);
  for (int j = 0; j < K; ++j)
    scores[j] = nan[j] ? std::numeric_limits<float>::quiet_NaN() : SumIndexLanes(lanes[j]) * scale[j];
}

// Quantises q per head (codes, scale) and scores the keys with the AVX512-BF16 kernel where this target is
// AVX-512 and the CPU has the instruction, else with ScoreFp8Keys on vectors of at most 16 lanes (so the
// virtual lanes h % 16 map onto whole vectors).
void IndexScoresFp8(const float* q, const float* w, int64_t n_heads, int64_t head_dim, const IndexKeyRows& keys,
                    int64_t key_begin, int64_t key_end, float* scores) {
  const hn::CappedTag<float, kIndexLanes> df;
  const int64_t n = static_cast<int64_t>(hn::Lanes(df));
  const int64_t heads_padded = (n_heads + kIndexLanes - 1) / kIndexLanes * kIndexLanes;
  SIEVE_CHECK(head_dim % n == 0);  // whole vectors of codes (and pairs): the indexer's head_dim is 128
  // codes [n_heads, head_dim], then qt [head_dim, heads_padded] (code values), wq [heads_padded], decoded
  // keys [kKeys, head_dim]; the BF16 kernel's query pairs [head_dim / 2, heads_padded] reuse qt's space.
  thread_local hwy::AlignedFreeUniquePtr<float[]> scratch;
  thread_local int64_t capacity = 0;
  const int64_t code_floats = (n_heads * head_dim + 3) / 4;
  const int64_t qt_offset = (code_floats + n - 1) / n * n;  // qt starts on a whole vector
  const int64_t need = qt_offset + (head_dim + 1) * heads_padded + kKeys * head_dim;
  if (need > capacity) {
    scratch = hwy::AllocateAligned<float>(static_cast<size_t>(need));
    capacity = need;
  }
  auto* codes = reinterpret_cast<uint8_t*>(scratch.get());
  float* qt = scratch.get() + qt_offset;
  float* wq = qt + head_dim * heads_padded;
  float* decoded = wq + heads_padded;
  std::fill(qt, decoded, 0.0f);
  bool query_nan = false;
  for (int64_t h = 0; h < n_heads; ++h) {
    uint8_t* qc = codes + h * head_dim;
    wq[h] = w[h] * ActQuantE4m3(q + h * head_dim, head_dim, qc);
    query_nan |= HasE4m3Nan(qc, head_dim);
  }
  if (query_nan) {
    std::fill(scores, scores + (key_end - key_begin), std::numeric_limits<float>::quiet_NaN());
    return;
  }
#if HWY_ARCH_X86 && HWY_TARGET <= HWY_AVX3
  if (head_dim % 32 == 0 && head_dim <= 256 && Fp8IndexRunsBf16Dot()) {
    auto* pairs = reinterpret_cast<uint32_t*>(qt);
    for (int64_t h = 0; h < n_heads; ++h)
      for (int64_t d = 0; d < head_dim; d += 2) {
        const uint8_t* c = codes + h * head_dim + d;
        pairs[d / 2 * heads_padded + h] = static_cast<uint32_t>(FloatToBf16(E4m3ToFloat(c[0]))) |
                                          static_cast<uint32_t>(FloatToBf16(E4m3ToFloat(c[1]))) << 16;
      }
    IndexScoresBf16Dot(pairs, wq, heads_padded, head_dim, keys, key_begin, key_end, scores);
    return;
  }
#endif
  for (int64_t h = 0; h < n_heads; ++h)
    for (int64_t d = 0; d < head_dim; ++d) qt[d * heads_padded + h] = E4m3ToFloat(codes[h * head_dim + d]);
  int64_t s = key_begin;
  for (; s + kKeys <= key_end; s += kKeys)
    ScoreFp8Keys<kKeys>(df, qt, wq, heads_padded, head_dim, keys, s, decoded, scores + (s - key_begin));
  for (; s < key_end; ++s) ScoreFp8Keys<1>(df, qt, wq, heads_padded, head_dim, keys, s, decoded, scores + (s - key_begin));
}

void IndexScoresImpl(const float* q, const float* w, int64_t n_heads, int64_t head_dim, const IndexKeyRows& keys,
                     int64_t key_begin, int64_t key_end, float* scores) {
  if (keys.format.type == IndexKeyType::kFP8) {
    IndexScoresFp8(q, w, n_heads, head_dim, keys, key_begin, key_end, scores);
    return;
  }
  const hn::ScalableTag<float> df;
  const int64_t lanes = static_cast<int64_t>(hn::Lanes(df));
  // Heads padded to whole vectors with zero q and zero weight: a padded lane adds w * ReLU(0) = +0.
  const int64_t heads_padded = (n_heads + lanes - 1) / lanes * lanes;
  // qt [head_dim, heads_padded], then w [heads_padded], then kKeys decoded key rows [kKeys, head_dim].
  thread_local hwy::AlignedFreeUniquePtr<float[]> scratch;
  thread_local int64_t capacity = 0;
  const int64_t need = (head_dim + 1) * heads_padded + kKeys * head_dim;
  if (need > capacity) {
    scratch = hwy::AllocateAligned<float>(static_cast<size_t>(need));
    capacity = need;
  }
  float* qt = scratch.get();
  float* wp = qt + head_dim * heads_padded;
  float* decoded = wp + heads_padded;
  std::fill(qt, decoded, 0.0f);
  for (int64_t h = 0; h < n_heads; ++h) {
    for (int64_t d = 0; d < head_dim; ++d) qt[d * heads_padded + h] = q[h * head_dim + d];
    wp[h] = w[h];
  }
  const float* key[kKeys];
  int64_t s = key_begin;
  for (; s + kKeys <= key_end; s += kKeys) {
    for (int j = 0; j < kKeys; ++j) key[j] = KeyRow(df, keys, head_dim, s + j, decoded + j * head_dim);
    ScoreKeys<kKeys>(df, qt, wp, heads_padded, head_dim, key, scores + (s - key_begin));
  }
  for (; s < key_end; ++s) {
    key[0] = KeyRow(df, keys, head_dim, s, decoded);
    ScoreKeys<1>(df, qt, wp, heads_padded, head_dim, key, scores + (s - key_begin));
  }
}

}  // namespace sieve::kernels::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace sieve::kernels {
HWY_EXPORT(IndexScoresImpl);

namespace {
std::atomic<Fp8IndexKernel> fp8_index_kernel{Fp8IndexKernel::kAuto};
}  // namespace

void SetFp8IndexKernel(Fp8IndexKernel kernel) { fp8_index_kernel.store(kernel, std::memory_order_relaxed); }

bool Fp8IndexRunsBf16Dot() {
  if (!HasBf16DotInstruction()) return false;
  switch (fp8_index_kernel.load(std::memory_order_relaxed)) {
    case Fp8IndexKernel::kBf16Dot: return true;
    case Fp8IndexKernel::kFma: return false;
    case Fp8IndexKernel::kAuto: break;
  }
  return Bf16DotOutrunsFma();
}

void IndexScores(const float* q, const float* w, int64_t n_heads, int64_t head_dim, const IndexKeyRows& keys,
                 int64_t key_begin, int64_t key_end, float* scores) {
  HWY_DYNAMIC_DISPATCH(IndexScoresImpl)(q, w, n_heads, head_dim, keys, key_begin, key_end, scores);
}
}  // namespace sieve::kernels
#endif
