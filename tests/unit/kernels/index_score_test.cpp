// kernels/index_score.h on every compiled Highway target: against a double-precision reference of
// I[s] = sum_h w[h] * ReLU(q[h] . k[s]), with head counts that are and are not whole vectors and a key count
// that leaves a tail; splitting the keys into ranges gives the same bits (the decode step splits them over
// threads); keys read in place from strided rows in paged blocks give the bits of the same keys stored
// contiguously; bf16 / fp8 rows give the bits of scoring their decoded fp32 values.
#include "kernels/index_score.h"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

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

// bf16 and fp8 rows (codes, then for fp8 the fp32 scale amax / 448, as model/paged_kv_cache.h stores them)
// against scoring their decoded values as fp32, which is what the indexer did before it read them in place.
// Row 2 holds a NaN code and row 6 a scale whose product with 2^120 overflows: the vector decode's
// fallbacks. Negative control: the decode must apply the scale.
TEST_P(IndexScoresOnEachTarget, EncodedRowsGiveTheBitsOfTheirDecodedValues) {
  std::mt19937 rng(9);
  const int64_t head_dim = 128, n_heads = 64, n_keys = 11;
  const std::vector<float> q = Normal(n_heads * head_dim, rng), w = Normal(n_heads, rng);
  std::vector<float> keys = Normal(n_keys * head_dim, rng);
  for (int64_t d = 0; d < head_dim; ++d) keys[6 * head_dim + d] *= 1e30f;
  for (const IndexKeyType type : {IndexKeyType::kBF16, IndexKeyType::kFP8}) {
    const int64_t code_bytes = type == IndexKeyType::kBF16 ? 2 : 1;
    const int64_t row_bytes = head_dim * code_bytes + 4 + 8;  // codes, scale, then unrelated bytes
    std::vector<uint8_t> storage(n_keys * row_bytes, 0xff);
    std::vector<float> decoded(n_keys * head_dim), unscaled(n_keys * head_dim), scales(n_keys);
    for (int64_t p = 0; p < n_keys; ++p) {
      uint8_t* row = storage.data() + p * row_bytes;
      const float* k = keys.data() + p * head_dim;
      float amax = 0.0f;
      for (int64_t d = 0; d < head_dim; ++d) amax = std::max(amax, std::abs(k[d]));
      const float scale = scales[p] = amax / 448.0f;
      std::memcpy(row + head_dim * code_bytes, &scale, 4);
      for (int64_t d = 0; d < head_dim; ++d) {
        float& out = decoded[p * head_dim + d];
        if (type == IndexKeyType::kBF16) {
          const uint16_t b = FloatToBf16(k[d]);
          std::memcpy(row + 2 * d, &b, 2);
          out = Bf16ToFloat(b);
        } else {
          row[d] = p == 2 && d == 40 ? 0x7f : FloatToE4m3(k[d] / scale);
          out = E4m3ToFloat(row[d]) * scale;
          unscaled[p * head_dim + d] = E4m3ToFloat(row[d]);
        }
      }
    }
    ASSERT_TRUE(std::isinf(scales[6] * 0x1p120f));
    const uint8_t* block = storage.data();
    const IndexKeyRows rows{&block, n_keys, {type, row_bytes, head_dim * code_bytes}};
    std::vector<float> got(n_keys);
    IndexScores(q.data(), w.data(), n_heads, head_dim, rows, 0, n_keys, got.data());
    const std::vector<float> want = ContiguousScores(q, w, head_dim, decoded, 0, n_keys);
    EXPECT_EQ(Bits(got), Bits(want)) << (type == IndexKeyType::kFP8 ? "fp8" : "bf16");
    if (type == IndexKeyType::kFP8) {
      EXPECT_NE(Bits(got), Bits(ContiguousScores(q, w, head_dim, unscaled, 0, n_keys)));
    }
  }
}

SIEVE_INSTANTIATE_ON_EACH_TARGET(IndexScoresOnEachTarget);

}  // namespace
}  // namespace sieve::kernels
