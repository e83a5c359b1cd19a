// kernels/index_score.h on every compiled Highway target: against a double-precision reference of
// I[s] = sum_h w[h] * ReLU(q[h] . k[s]), with head counts that are and are not whole vectors and a key count
// that leaves a tail; splitting the keys into ranges gives the same bits (the decode step splits them over
// threads); keys read in place from strided rows in paged blocks give the bits of the same keys stored
// contiguously; bf16 rows give the bits of scoring their decoded fp32 values; fp8 rows give the bits of
// the reference's FP8 numerics in the order kernels/cpu/index_fp8_order.h defines.
#include "kernels/index_score.h"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <utility>
#include <vector>

#include "core/act_quant.h"
#include "core/dtype.h"
#include "tests/unit/kernels/on_each_target.h"

namespace sieve::kernels {
namespace {

class IndexScoresOnEachTarget : public OnEachTarget {};

std::vector<float> Normal(int64_t n, std::mt19937& rng) {
  std::normal_distribution<float> d(0.0f, 1.0f);
  std::vector<float> v(n);
  for (auto& f : v) f = d(rng);
  return v;
}

// Scores of fp32 keys stored contiguously [n_keys, head_dim] (one block).
std::vector<float> ContiguousScores(const std::vector<float>& q, const std::vector<float>& w, int64_t head_dim,
                                    const std::vector<float>& keys, int64_t key_begin, int64_t key_end) {
  const int64_t n_keys = static_cast<int64_t>(keys.size()) / head_dim;
  const uint8_t* block = reinterpret_cast<const uint8_t*>(keys.data());
  const IndexKeyRows rows{&block, n_keys, {IndexKeyType::kF32, head_dim * 4, 0}};
  std::vector<float> scores(key_end - key_begin);
  IndexScores(q.data(), w.data(), static_cast<int64_t>(w.size()), head_dim, rows, key_begin, key_end, scores.data());
  return scores;
}

// Bit patterns, so that NaN scores compare equal to NaN scores at the same positions.
std::vector<uint32_t> Bits(const std::vector<float>& v) {
  std::vector<uint32_t> b(v.size());
  for (size_t i = 0; i < v.size(); ++i) b[i] = std::bit_cast<uint32_t>(v[i]);
  return b;
}

TEST_P(IndexScoresOnEachTarget, MatchesReferenceAndDoesNotDependOnBlocking) {
  std::mt19937 rng(17);
  const int64_t head_dim = 128, n_keys = 37;
  for (const int64_t n_heads : {16, 64, 20}) {
    const std::vector<float> q = Normal(n_heads * head_dim, rng), w = Normal(n_heads, rng);
    const std::vector<float> keys = Normal(n_keys * head_dim, rng);
    const std::vector<float> scores = ContiguousScores(q, w, head_dim, keys, 0, n_keys);
    for (int64_t s = 0; s < n_keys; ++s) {
      double want = 0, magnitude = 0;
      for (int64_t h = 0; h < n_heads; ++h) {
        double dot = 0, dot_magnitude = 0;
        for (int64_t d = 0; d < head_dim; ++d) {
          dot += static_cast<double>(q[h * head_dim + d]) * keys[s * head_dim + d];
          dot_magnitude += std::abs(static_cast<double>(q[h * head_dim + d]) * keys[s * head_dim + d]);
        }
        want += w[h] * std::max(0.0, dot);
        magnitude += std::abs(w[h]) * dot_magnitude;
      }
      EXPECT_LE(std::abs(scores[s] - want), 1e-5 * magnitude) << n_heads << " heads, key " << s;
    }
    const int64_t cut = 5;  // ranges [0, 5) and [5, 37): different key groupings and tails
    std::vector<float> split = ContiguousScores(q, w, head_dim, keys, 0, cut);
    const std::vector<float> rest = ContiguousScores(q, w, head_dim, keys, cut, n_keys);
    split.insert(split.end(), rest.begin(), rest.end());
    EXPECT_EQ(scores, split) << n_heads << " heads";
  }
}

// Keys spread over blocks of 5 rows (so groups of 4 keys straddle blocks), rows 3 floats longer than a
// key (as a cache token entry holds more than the key), the blocks in shuffled memory order.
TEST_P(IndexScoresOnEachTarget, PagedRowsInPlaceGiveTheContiguousBits) {
  std::mt19937 rng(5);
  const int64_t head_dim = 128, n_heads = 64, n_keys = 23, block_rows = 5, row_floats = head_dim + 3;
  const std::vector<float> q = Normal(n_heads * head_dim, rng), w = Normal(n_heads, rng);
  const std::vector<float> keys = Normal(n_keys * head_dim, rng);
  const int64_t n_blocks = (n_keys + block_rows - 1) / block_rows;
  std::vector<float> storage(n_blocks * block_rows * row_floats, std::numeric_limits<float>::quiet_NaN());
  std::vector<const uint8_t*> blocks(n_blocks);
  for (int64_t b = 0; b < n_blocks; ++b) {
    const int64_t where = (b * 3) % n_blocks;  // a permutation: 3 and the block count are coprime
    blocks[b] = reinterpret_cast<const uint8_t*>(storage.data() + where * block_rows * row_floats);
  }
  for (int64_t p = 0; p < n_keys; ++p)
    std::memcpy(const_cast<uint8_t*>(blocks[p / block_rows]) + (p % block_rows) * row_floats * 4,
                keys.data() + p * head_dim, head_dim * 4);
  const IndexKeyRows rows{blocks.data(), block_rows, {IndexKeyType::kF32, row_floats * 4, 0}};
  const std::vector<float> want = ContiguousScores(q, w, head_dim, keys, 0, n_keys);
  for (const int64_t cut : {0, 3, 7, 10}) {  // range starts inside, at and across block boundaries
    std::vector<float> got(n_keys);
    IndexScores(q.data(), w.data(), n_heads, head_dim, rows, 0, cut, got.data());
    IndexScores(q.data(), w.data(), n_heads, head_dim, rows, cut, n_keys, got.data() + cut);
    EXPECT_EQ(got, want) << "cut " << cut;
  }
}

// bf16 rows (codes, then unrelated bytes, as model/paged_kv_cache.h stores them) against scoring their
// decoded values as fp32, which is what the indexer did before it read them in place.
TEST_P(IndexScoresOnEachTarget, Bf16RowsGiveTheBitsOfTheirDecodedValues) {
  std::mt19937 rng(9);
  const int64_t head_dim = 128, n_heads = 64, n_keys = 11, row_bytes = head_dim * 2 + 12;
  const std::vector<float> q = Normal(n_heads * head_dim, rng), w = Normal(n_heads, rng);
  const std::vector<float> keys = Normal(n_keys * head_dim, rng);
  std::vector<uint8_t> storage(n_keys * row_bytes, 0xff);
  std::vector<float> decoded(n_keys * head_dim);
  for (int64_t p = 0; p < n_keys; ++p)
    for (int64_t d = 0; d < head_dim; ++d) {
      const uint16_t b = FloatToBf16(keys[p * head_dim + d]);
      std::memcpy(storage.data() + p * row_bytes + 2 * d, &b, 2);
      decoded[p * head_dim + d] = Bf16ToFloat(b);
    }
  const uint8_t* block = storage.data();
  const IndexKeyRows rows{&block, n_keys, {IndexKeyType::kBF16, row_bytes, 0}};
  std::vector<float> got(n_keys);
  IndexScores(q.data(), w.data(), n_heads, head_dim, rows, 0, n_keys, got.data());
  EXPECT_EQ(Bits(got), Bits(ContiguousScores(q, w, head_dim, decoded, 0, n_keys)));
}

// fp8 keys as the cache stores them (codes, the UE8M0 scale, then unrelated bytes), scored with the FP8
// numerics. `odd_first` false gives the other pair order, for the negative control.
struct Fp8Keys {
  std::vector<uint8_t> storage;
  int64_t row_bytes = 0;
};

Fp8Keys EncodeFp8(const std::vector<float>& keys, int64_t head_dim) {
  Fp8Keys out;
  out.row_bytes = head_dim + 4 + 8;
  const int64_t n_keys = static_cast<int64_t>(keys.size()) / head_dim;
  out.storage.assign(n_keys * out.row_bytes, 0xff);
  for (int64_t p = 0; p < n_keys; ++p) {
    uint8_t* row = out.storage.data() + p * out.row_bytes;
    const float scale = ActQuantE4m3(keys.data() + p * head_dim, head_dim, row);
    std::memcpy(row + head_dim, &scale, 4);
  }
  return out;
}

// The definition (kernels/cpu/index_fp8_order.h), written out in scalar code: q quantised per head,
// w[h] * q_scale[h], dots of code values pair by pair, heads into virtual lanes h % 16, the halving tree,
// times the key scale. `fused`: the head weighting is one FMA (targets with FMA: AVX2 and later), else a
// product and a sum, two roundings (SSE4 and the scalar targets; the dots are exact products either way).
std::vector<float> Fp8Reference(const std::vector<float>& q, const std::vector<float>& w, int64_t head_dim,
                                const Fp8Keys& keys, int64_t n_keys, bool odd_first, bool fused) {
  const int64_t n_heads = static_cast<int64_t>(w.size());
  std::vector<uint8_t> qc(q.size());
  std::vector<float> wq(n_heads);
  for (int64_t h = 0; h < n_heads; ++h) wq[h] = w[h] * ActQuantE4m3(q.data() + h * head_dim, head_dim, qc.data() + h * head_dim);
  std::vector<float> scores(n_keys);
  for (int64_t s = 0; s < n_keys; ++s) {
    const uint8_t* row = keys.storage.data() + s * keys.row_bytes;
    float lanes[16] = {};
    for (int64_t h = 0; h < n_heads; ++h) {
      float acc = 0.0f;
      for (int64_t d = 0; d < head_dim; d += 2) {
        const float q0 = E4m3ToFloat(qc[h * head_dim + d]), q1 = E4m3ToFloat(qc[h * head_dim + d + 1]);
        const float k0 = E4m3ToFloat(row[d]), k1 = E4m3ToFloat(row[d + 1]);
        acc = odd_first ? std::fma(q0, k0, std::fma(q1, k1, acc)) : std::fma(q1, k1, std::fma(q0, k0, acc));
      }
      const float relu = std::max(acc, 0.0f);
      if (fused) lanes[h % 16] = std::fma(relu, wq[h], lanes[h % 16]);
      else {
        const volatile float product = relu * wq[h];  // volatile: not contracted into an FMA
        lanes[h % 16] += product;
      }
    }
    for (int width = 8; width >= 1; width /= 2)
      for (int l = 0; l < width; ++l) lanes[l] += lanes[l + width];
    float scale;
    std::memcpy(&scale, row + head_dim, 4);
    scores[s] = lanes[0] * scale;
  }
  return scores;
}

std::vector<float> Fp8Scores(const std::vector<float>& q, const std::vector<float>& w, int64_t head_dim,
                             const Fp8Keys& keys, int64_t key_begin, int64_t key_end) {
  const uint8_t* block = keys.storage.data();
  const int64_t n_keys = static_cast<int64_t>(keys.storage.size()) / keys.row_bytes;
  const IndexKeyRows rows{&block, n_keys, {IndexKeyType::kFP8, keys.row_bytes, head_dim}};
  std::vector<float> scores(key_end - key_begin);
  IndexScores(q.data(), w.data(), static_cast<int64_t>(w.size()), head_dim, rows, key_begin, key_end, scores.data());
  return scores;
}

// Magnitudes spread over 2^-6 .. 2^6 (random sign): code products then span more than fp32's 24 bits, so
// the dots round and their order shows in the bits.
std::vector<float> WideRange(int64_t n, std::mt19937& rng) {
  std::uniform_real_distribution<float> exponent(-6.0f, 6.0f);
  std::vector<float> v(n);
  for (auto& f : v) f = std::exp2(exponent(rng)) * (rng() % 2 ? 1.0f : -1.0f);
  return v;
}

// Forces one fp8 kernel for a scope (SetFp8IndexKernel is process-wide), then back to kAuto.
struct ForcedFp8Kernel {
  explicit ForcedFp8Kernel(Fp8IndexKernel kernel) { SetFp8IndexKernel(kernel); }
  ~ForcedFp8Kernel() { SetFp8IndexKernel(Fp8IndexKernel::kAuto); }
  ForcedFp8Kernel(const ForcedFp8Kernel&) = delete;
  ForcedFp8Kernel& operator=(const ForcedFp8Kernel&) = delete;
};

// Both fp8 kernels (on AVX3 with AVX512-BF16 on this CPU the vdpbf16ps one when forced, else the FMA one;
// on the other targets always the portable one) must give the definition's bits, for any key range. The scores also approximate the exact fp32
// ones within the FP8 rounding (~2^-4 per element of q and of k), and the pair order is not a free choice:
// the even-first order gives other bits for some score.
TEST_P(IndexScoresOnEachTarget, Fp8KeysGiveTheBitsOfTheReferenceOrder) {
  for (const Fp8IndexKernel kernel : {Fp8IndexKernel::kBf16Dot, Fp8IndexKernel::kFma}) {
    const ForcedFp8Kernel forced(kernel);
    SCOPED_TRACE(kernel == Fp8IndexKernel::kBf16Dot ? "bf16 dot kernel" : "FMA kernel");
    std::mt19937 rng(23);
    const int64_t n_keys = 37;
    const bool fused = GetParam() <= HWY_AVX2;  // x86 targets: a lower bit is a newer target
    // head_dim 16: the portable kernel on every target (the BF16 one takes whole 32-code steps), and its
    // scratch layout with a code region that is not a whole number of vectors.
    for (const auto& [n_heads, head_dim] : {std::pair<int64_t, int64_t>{64, 128}, {16, 128}, {20, 128}, {3, 16}}) {
      const std::vector<float> q = WideRange(n_heads * head_dim, rng), w = Normal(n_heads, rng);
      const std::vector<float> keys = WideRange(n_keys * head_dim, rng);
      const Fp8Keys fp8 = EncodeFp8(keys, head_dim);
      const std::vector<float> want = Fp8Reference(q, w, head_dim, fp8, n_keys, /*odd_first=*/true, fused);
      const std::vector<float> got = Fp8Scores(q, w, head_dim, fp8, 0, n_keys);
      EXPECT_EQ(Bits(got), Bits(want)) << n_heads << " heads";
      if (head_dim == 128) {  // 16-element dots of 3 heads stay exact: either order gives their bits
        EXPECT_NE(Bits(got), Bits(Fp8Reference(q, w, head_dim, fp8, n_keys, /*odd_first=*/false, fused))) << n_heads;
      }
      std::vector<float> split = Fp8Scores(q, w, head_dim, fp8, 0, 5);
      const std::vector<float> rest = Fp8Scores(q, w, head_dim, fp8, 5, n_keys);
      split.insert(split.end(), rest.begin(), rest.end());
      EXPECT_EQ(Bits(split), Bits(got)) << n_heads << " heads";
      const std::vector<float> exact = ContiguousScores(q, w, head_dim, keys, 0, n_keys);
      for (int64_t s = 0; s < n_keys; ++s) {
        double magnitude = 0;
        for (int64_t h = 0; h < n_heads; ++h)
          for (int64_t d = 0; d < head_dim; ++d)
            magnitude += std::abs(static_cast<double>(w[h]) * q[h * head_dim + d] * keys[s * head_dim + d]);
        EXPECT_LE(std::abs(got[s] - exact[s]), 0.15 * magnitude) << n_heads << " heads, key " << s;
      }
    }
  }
}

// A key row holding the NaN code scores NaN and leaves the others alone; a query whose quantisation gives
// the NaN code (a NaN element) makes every score NaN.
TEST_P(IndexScoresOnEachTarget, Fp8NanCodesGiveNanScores) {
  for (const Fp8IndexKernel kernel : {Fp8IndexKernel::kBf16Dot, Fp8IndexKernel::kFma}) {
    const ForcedFp8Kernel forced(kernel);
    SCOPED_TRACE(kernel == Fp8IndexKernel::kBf16Dot ? "bf16 dot kernel" : "FMA kernel");
    std::mt19937 rng(29);
    const int64_t head_dim = 128, n_heads = 64, n_keys = 9;
    std::vector<float> q = Normal(n_heads * head_dim, rng);
    const std::vector<float> w = Normal(n_heads, rng);
    Fp8Keys fp8 = EncodeFp8(Normal(n_keys * head_dim, rng), head_dim);
    const std::vector<float> clean = Fp8Scores(q, w, head_dim, fp8, 0, n_keys);
    fp8.storage[6 * fp8.row_bytes + 77] = 0xff;
    const std::vector<float> got = Fp8Scores(q, w, head_dim, fp8, 0, n_keys);
    for (int64_t s = 0; s < n_keys; ++s) {
      if (s == 6) EXPECT_TRUE(std::isnan(got[s]));
      else EXPECT_EQ(std::bit_cast<uint32_t>(got[s]), std::bit_cast<uint32_t>(clean[s])) << s;
    }
    q[3 * head_dim + 5] = std::numeric_limits<float>::quiet_NaN();
    for (const float score : Fp8Scores(q, w, head_dim, fp8, 0, n_keys)) EXPECT_TRUE(std::isnan(score));
  }
}

SIEVE_INSTANTIATE_ON_EACH_TARGET(IndexScoresOnEachTarget);

}  // namespace
}  // namespace sieve::kernels
