// kernels/matmul.h against the scalar reference on every compiled Highway target, with awkward sizes
// (1 column, lanes +- 1, a partial last FP8 row block, misaligned pointers) and a negative control.
#include "kernels/matmul.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <utility>
#include <vector>

#include "kernels/gemm_matmul.h"
#include "kernels/fp8_nan_memo.h"
#include "tests/unit/kernels/matmul_reference.h"
#include "tests/unit/kernels/on_each_target.h"

namespace sieve::kernels {
namespace {

// An FP8 block matrix with random codes (never the NaN code 0x7f/0xff) and random positive scales.
struct Fp8Matrix {
  std::vector<uint8_t> bytes;
  std::vector<float> scales;
  WeightMatrix view;
  Fp8Matrix(int64_t rows, int64_t cols, int64_t block, std::mt19937& rng) {
    bytes.resize(rows * cols + 1);  // +1: the view starts at byte 1 to test a misaligned weight
    std::uniform_int_distribution<int> code(0, 255);
    for (auto& b : bytes) {
      b = static_cast<uint8_t>(code(rng));
      if ((b & 0x7f) == 0x7f) b &= 0xfe;
    }
    const int64_t sr = (rows + block - 1) / block, sc = (cols + block - 1) / block;
    std::uniform_real_distribution<float> s(0.001f, 0.01f);
    scales.resize(sr * sc);
    for (auto& v : scales) v = s(rng);
    view = {DType::kF8E4M3, reinterpret_cast<const std::byte*>(bytes.data() + 1), 0, rows, cols,
            scales.data(), sc, block, block};
  }
};

std::vector<float> RandomFloats(int64_t n, std::mt19937& rng) {
  std::normal_distribution<float> d(0.0f, 1.0f);
  std::vector<float> v(n);
  for (auto& f : v) f = d(rng);
  return v;
}

// Largest |got - want| / (sum |x||w| + 1e-30) over all outputs: fp32 accumulation error is bounded by
// about n_cols * 2^-24 times that scale; 1e-5 allows columns up to ~100 wide blocks of rounding.
double MaxRelativeError(const std::vector<float>& got, const std::vector<double>& want,
                        const std::vector<double>& magnitude) {
  double worst = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    if (std::isnan(got[i]) != std::isnan(want[i])) return INFINITY;
    worst = std::max(worst, std::abs(got[i] - want[i]) / (magnitude[i] + 1e-30));
  }
  return worst;
}

class MatmulOnEachTarget : public OnEachTarget {};

TEST_P(MatmulOnEachTarget, Fp8MatchesScalarReferenceOnAwkwardSizes) {
  std::mt19937 rng(7);
  ThreadPool pool(3);
  // (rows, cols, block): partial last row block, partial column block, fewer columns than lanes.
  const int64_t sizes[][3] = {{1, 1, 128}, {5, 7, 4}, {160, 256, 128}, {33, 17, 8}, {9, 130, 128}, {0, 16, 128}};
  for (const auto& s : sizes) {
    Fp8Matrix w(s[0], s[1], s[2], rng);
    for (int64_t n : {int64_t{1}, int64_t{3}, kMinGemmTokens + 1}) {  // fused, tiled, sgemm on decoded panels
      std::vector<float> x = RandomFloats(n * s[1] + 1, rng);  // +1: misaligned activations
      std::vector<float> y(n * s[0]);
      Matmul(w.view, x.data() + 1, n, y.data(), pool);
      std::vector<double> want, magnitude;
      reference::Matmul(w.view, x.data() + 1, n, &want, &magnitude);
      EXPECT_LE(MaxRelativeError(y, want, magnitude), 1e-5) << s[0] << "x" << s[1] << " n=" << n;
    }
  }
}

// Tensor-parallel shards: sub-rectangles of an FP8 tensor whose edges cut 128 x 128 blocks (and SIMD
// vectors) must read each element with its own block's scale, through the fused (n <= 2) and tiled paths.
TEST_P(MatmulOnEachTarget, Fp8SubBlockSlicesEqualTheWholeTensorsColumns) {
  std::mt19937 rng(5);
  ThreadPool pool(2);
  Fp8Matrix whole(160, 384, 128, rng);
  // (row begin, rows, col begin, cols): half blocks, a slice across a block edge, a misaligned start.
  const int64_t slices[][4] = {{0, 160, 64, 64}, {32, 100, 96, 64}, {0, 80, 128, 256}, {7, 9, 61, 43}};
  for (const auto& s : slices) {
    const WeightMatrix part = whole.view.Rows(s[0], s[1]).Cols(s[2], s[3]);
    for (int64_t n : {1, 2, 3}) {
      const std::vector<float> x = RandomFloats(n * s[3], rng);
      std::vector<float> y(n * s[1]);
      Matmul(part, x.data(), n, y.data(), pool);
      for (int64_t t = 0; t < n; ++t)
        for (int64_t r = 0; r < s[1]; ++r) {
          double want = 0, mag = 0;
          for (int64_t c = 0; c < s[3]; ++c) {
            const double p = static_cast<double>(x[t * s[3] + c]) * reference::WeightAt(whole.view, s[0] + r, s[2] + c);
            want += p;
            mag += std::abs(p);
          }
          ASSERT_LE(std::abs(y[t * s[1] + r] - want), 1e-5 * mag + 1e-30) << s[2] << "+" << s[3] << " n=" << n;
        }
    }
    std::vector<float> row(s[3]);
    DequantizeRow(part, 1, row.data());
    for (int64_t c = 0; c < s[3]; ++c) ASSERT_EQ(row[c], reference::WeightAt(whole.view, s[0] + 1, s[2] + c)) << c;
  }
  // Negative control: reading the slice with the scales of column 0's block gives different products.
  WeightMatrix wrong = whole.view.Cols(64, 128);
  wrong.col_begin = 0;
  wrong.data += 64;
  std::vector<float> row(128), good(128);
  DequantizeRow(wrong, 0, row.data());
  DequantizeRow(whole.view.Cols(64, 128), 0, good.data());
  EXPECT_NE(row, good);
}

TEST_P(MatmulOnEachTarget, Bf16AndTransposedMatchScalarReference) {
  std::mt19937 rng(11);
  ThreadPool pool(2);
  const int64_t rows = 37, cols = 45;
  for (const int64_t n : {int64_t{2}, kMinGemmTokens}) {  // the dot kernels, then sgemm
    std::vector<uint16_t> bf16(rows * cols);
    std::vector<float> wf = RandomFloats(rows * cols, rng);
    for (int64_t i = 0; i < rows * cols; ++i) bf16[i] = FloatToBf16(wf[i]);
    const WeightMatrix w{DType::kBF16, reinterpret_cast<const std::byte*>(bf16.data()), 0, rows, cols};
    const std::vector<float> x = RandomFloats(n * cols, rng);
    std::vector<float> y(n * rows);
    Matmul(w, x.data(), n, y.data(), pool);
    std::vector<double> want, magnitude;
    reference::Matmul(w, x.data(), n, &want, &magnitude);
    EXPECT_LE(MaxRelativeError(y, want, magnitude), 1e-5);

    // Transposed product over a row slice (rows 3..22), as used for one head of kv_b_proj.
    const WeightMatrix slice = w.Rows(3, 20);
    const std::vector<float> xt = RandomFloats(n * slice.rows, rng);
    std::vector<float> yt(n * cols);
    MatmulTransposed(slice, xt.data(), n, yt.data(), pool);
    for (int64_t t = 0; t < n; ++t)
      for (int64_t c = 0; c < cols; ++c) {
        double sum = 0, mag = 0;
        for (int64_t r = 0; r < slice.rows; ++r) {
          const double p = static_cast<double>(xt[t * slice.rows + r]) * reference::WeightAt(slice, r, c);
          sum += p;
          mag += std::abs(p);
        }
        EXPECT_LE(std::abs(yt[t * cols + c] - sum), 1e-5 * mag + 1e-30) << t << "," << c;
      }
  }
}

SIEVE_INSTANTIATE_ON_EACH_TARGET(MatmulOnEachTarget);

TEST(Matmul, ComparisonCatchesAPerturbedBlockScale) {  // negative control for the tests above
  std::mt19937 rng(3);
  ThreadPool pool(1);
  Fp8Matrix w(160, 256, 128, rng);
  const std::vector<float> x = RandomFloats(256, rng);
  std::vector<float> y(160);
  Matmul(w.view, x.data(), 1, y.data(), pool);
  w.scales[3] *= 1.01f;  // row block 1, column block 1
  std::vector<double> want, magnitude;
  reference::Matmul(w.view, x.data(), 1, &want, &magnitude);
  EXPECT_GT(MaxRelativeError(y, want, magnitude), 1e-4);
}

TEST(Matmul, ResultsAreIdenticalForAnyThreadCount) {
  std::mt19937 rng(5);
  // 600 rows / columns: several sgemm panels, split differently over 1 and 4 threads.
  Fp8Matrix w(600, 600, 128, rng);
  for (const int64_t n : {int64_t{3}, kMinGemmTokens + 3}) {
    const std::vector<float> x = RandomFloats(n * 600, rng);
    std::vector<float> y1(n * 600), y4(n * 600), t1(n * 600), t4(n * 600);
    ThreadPool one(1), four(4);
    Matmul(w.view, x.data(), n, y1.data(), one);
    Matmul(w.view, x.data(), n, y4.data(), four);
    EXPECT_EQ(y1, y4) << "n=" << n;
    MatmulTransposed(w.view, x.data(), n, t1.data(), one);
    MatmulTransposed(w.view, x.data(), n, t4.data(), four);
    EXPECT_EQ(t1, t4) << "n=" << n;
  }
}

// The decode GEMV reads weights in place (fused) and larger batches decode a tile first: both must give
// the same bits, so a token's logits do not depend on how many tokens share its step.
TEST_P(MatmulOnEachTarget, FusedDecodeEqualsTiledPathBitForBit) {
  std::mt19937 rng(11);
  for (const DType dtype : {DType::kF8E4M3, DType::kBF16}) {
    Fp8Matrix fp8(262, 384 + 5, 128, rng);  // a partial last tile of rows and a column tail
    std::vector<uint16_t> bf16(262 * (384 + 5));
    for (auto& b : bf16) b = FloatToBf16(std::normal_distribution<float>(0, 1)(rng));
    WeightMatrix w = fp8.view;
    if (dtype == DType::kBF16) w = {DType::kBF16, reinterpret_cast<const std::byte*>(bf16.data()), 0, 262, 384 + 5};
    const std::vector<float> x = RandomFloats(3 * w.cols, rng);
    std::vector<float> batched(3 * w.rows), single(w.rows), single_threads(w.rows);
    ThreadPool one(1), three(3);
    Matmul(w, x.data(), 3, batched.data(), one);          // tiled: 3 tokens share each decoded tile
    Matmul(w, x.data() + w.cols, 1, single.data(), one);  // fused: token 1 alone
    Matmul(w, x.data() + w.cols, 1, single_threads.data(), three);
    EXPECT_EQ(single, std::vector<float>(batched.begin() + w.rows, batched.begin() + 2 * w.rows));
    EXPECT_EQ(single, single_threads);
    // Negative control: another token's row differs.
    EXPECT_NE(single, std::vector<float>(batched.begin(), batched.begin() + w.rows));
  }
}

// Every batch below kMinGemmTokens (a batched decode step) must give each token the bits it has alone, for
// FP8 (a column tail, a partial last block, a slice whose columns start inside a block, and rows wider than
// kernels/cpu/fused_dot-inl.h's kFp8OneRowMaxCols, which a lone token dots four at a time rather than one
// after another), BF16 (also rows wider than kBf16OneRowMaxCols) and F32, and odd token counts (pairs plus
// a lone token); up to 4 tokens on the 647-column matrix read a tile's rows one at a time, more tokens
// (FP8) in passes of four tokens against two rows (kWideTokens), then pairs against four rows and a lone
// token (7 = 4 + 2 + 1, 21 = 5 x 4 + 1); BF16 and F32 in pairs and a lone token.
TEST_P(MatmulOnEachTarget, DecodeBatchesKeepEachTokensBits) {
  std::mt19937 rng(29);
  Fp8Matrix fp8(40, 640 + 7, 128, rng);
  Fp8Matrix wide_fp8(12, 2048 + 133, 128, rng);
  std::vector<uint16_t> bf16(40 * 300);
  for (auto& b : bf16) b = FloatToBf16(std::normal_distribution<float>(0, 1)(rng));
  std::vector<uint16_t> wide_bf16(12 * (4096 + 133));
  for (auto& b : wide_bf16) b = FloatToBf16(std::normal_distribution<float>(0, 1)(rng));
  const std::vector<float> f32 = RandomFloats(40 * 300, rng);
  const WeightMatrix views[] = {fp8.view, fp8.view.Rows(3, 33).Cols(61, 500), wide_fp8.view,
                                {DType::kBF16, reinterpret_cast<const std::byte*>(bf16.data()), 0, 40, 300},
                                {DType::kBF16, reinterpret_cast<const std::byte*>(wide_bf16.data()), 0, 12, 4096 + 133},
                                {DType::kF32, reinterpret_cast<const std::byte*>(f32.data()), 0, 40, 300}};
  ThreadPool pool(2);
  for (const WeightMatrix& w : views)
    for (const int64_t n : {int64_t{2}, int64_t{3}, int64_t{4}, int64_t{7}, int64_t{16}, int64_t{21}, kMinGemmTokens - 1}) {
      const std::vector<float> x = RandomFloats(n * w.cols, rng);
      std::vector<float> batched(n * w.rows), single(w.rows);
      Matmul(w, x.data(), n, batched.data(), pool);
      for (int64_t t = 0; t < n; ++t) {
        Matmul(w, x.data() + t * w.cols, 1, single.data(), pool);
        ASSERT_EQ(std::memcmp(single.data(), batched.data() + t * w.rows, w.rows * sizeof(float)), 0)
            << DTypeName(w.dtype) << " cols " << w.cols << " n=" << n << " token " << t;
      }
    }
}

// The fused kernel does not decode the NaN code and carries 2^120 with the block scale: a tile with a NaN
// code, or a matrix whose scale x 2^120 overflows, must take a decoding path and give the tiled path's bits.
TEST_P(MatmulOnEachTarget, FusedPathFallsBackOnNanCodesAndHugeScales) {
  std::mt19937 rng(13);
  Fp8Matrix w(8, 256, 128, rng);
  w.bytes[1 + 5 * 256 + 200] = 0xff;  // row 5 (the view starts at byte 1), a NaN code
  const std::vector<float> x = RandomFloats(3 * 256, rng);
  ThreadPool pool(1);
  const auto same_bits = [](const std::vector<float>& a, const float* b) {
    for (size_t i = 0; i < a.size(); ++i)
      if (std::memcmp(&a[i], &b[i], sizeof(float)) != 0) return false;
    return true;
  };
  for (const float scale : {0.005f, 1e30f}) {  // 1e30 x 2^120 is not a finite float
    w.scales[0] = scale;
    std::vector<float> single(8), batched(3 * 8);
    Matmul(w.view, x.data() + 256, 1, single.data(), pool);  // fused where it can
    Matmul(w.view, x.data(), 3, batched.data(), pool);       // decoded tiles
    EXPECT_TRUE(std::isnan(single[5])) << scale;
    EXPECT_FALSE(std::isnan(single[4])) << scale;
    EXPECT_TRUE(same_bits(single, batched.data() + 8)) << scale;
  }
}

// With an Fp8NanMemo the GEMV learns which row groups hold NaN codes on first read (scanning each group
// whole) and gives the bits of the per-tile scan: a NaN in group 0 of three, a view starting mid-group
// whose tiles straddle groups, tokens for the fused (1, 2) and decoded-tile (3) paths.
TEST_P(MatmulOnEachTarget, NanMemoGivesTheBitsOfScanningEachTile) {
  std::mt19937 rng(23);
  const int64_t rows = 40, cols = 256;  // groups of 16 rows: 0-15, 16-31, 32-39
  Fp8Matrix w(rows, cols, 128, rng);
  w.bytes[1 + 5 * cols + 200] = 0x7f;  // row 5, a NaN code
  Fp8NanMemo memo(w.bytes.data() + 1, rows, cols);
  WeightMatrix remembered = w.view;
  remembered.nan_memo = &memo;
  ThreadPool pool(2);
  for (const auto& [plain, with_memo] : {std::pair{w.view, remembered}, std::pair{w.view.Rows(3, 24), remembered.Rows(3, 24)}})
    for (int64_t n : {1, 2, 3}) {
      const std::vector<float> x = RandomFloats(n * cols, rng);
      std::vector<float> want(n * plain.rows), got(n * plain.rows);
      Matmul(plain, x.data(), n, want.data(), pool);
      Matmul(with_memo, x.data(), n, got.data(), pool);
      EXPECT_EQ(std::memcmp(want.data(), got.data(), want.size() * sizeof(float)), 0) << "n=" << n << " rows " << plain.rows;
    }
  EXPECT_EQ(memo.Get(0), Fp8NanMemo::kHasNan);
  EXPECT_EQ(memo.Get(1), Fp8NanMemo::kClean);
  EXPECT_EQ(memo.Get(2), Fp8NanMemo::kClean);
  // Negative control: a memo that (wrongly) says group 0 is clean is believed, so row 5 is fused and its
  // NaN code read as a number.
  Fp8NanMemo wrong(w.bytes.data() + 1, rows, cols);
  wrong.Set(0, Fp8NanMemo::kClean);
  remembered.nan_memo = &wrong;
  const std::vector<float> x = RandomFloats(cols, rng);
  std::vector<float> y(rows);
  Matmul(remembered, x.data(), 1, y.data(), pool);
  EXPECT_FALSE(std::isnan(y[5]));
}

// The GEMV dots code * 2^-120 with the activations times their block scale times 2^120, so its products
// have their real magnitudes: small activations times the smallest (subnormal) codes stay normal floats.
// Products of code * 2^-120 with the plain activations (~2^-139) would keep only a few bits and miss 1e-5
// by far.
TEST_P(MatmulOnEachTarget, Fp8SmallActivationsTimesSubnormalCodesKeepTheirBits) {
  std::mt19937 rng(17);
  Fp8Matrix w(8, 256, 128, rng);
  std::uniform_int_distribution<int> subnormal(1, 7);
  for (auto& b : w.bytes) b = static_cast<uint8_t>(subnormal(rng) | (rng() & 0x80));
  std::vector<float> x = RandomFloats(3 * 256, rng);
  for (auto& v : x) v *= 1e-3f;
  ThreadPool pool(2);
  for (int64_t n : {1, 3}) {  // fused, and decoded tiles
    std::vector<float> y(n * 8);
    Matmul(w.view, x.data(), n, y.data(), pool);
    std::vector<double> want, magnitude;
    reference::Matmul(w.view, x.data(), n, &want, &magnitude);
    EXPECT_LE(MaxRelativeError(y, want, magnitude), 1e-5) << "n=" << n;
  }
}

// A tile whose rows lie in two FP8 row blocks (a view starting off a multiple of 4 rows within a block) is
// dotted row by row, each row against its own block's scaled activations: its rows must have the bits they
// have in a view whose tiles do not straddle, alone and batched.
TEST_P(MatmulOnEachTarget, Fp8TilesAcrossRowBlocksKeepTheFusedBits) {
  std::mt19937 rng(31);
  Fp8Matrix w(64, 256 + 3, 8, rng);  // 8 x 8 blocks: a view from row 2 has a tile across every row block edge
  const WeightMatrix shifted = w.view.Rows(2, 60);
  ThreadPool pool(2);
  for (int64_t n : {1, 2, 3}) {
    const std::vector<float> x = RandomFloats(n * w.view.cols, rng);
    std::vector<float> whole(n * 64), part(n * 60);
    Matmul(w.view, x.data(), n, whole.data(), pool);
    Matmul(shifted, x.data(), n, part.data(), pool);
    for (int64_t t = 0; t < n; ++t)
      for (int64_t r = 0; r < 60; ++r)
        ASSERT_EQ(std::memcmp(&part[t * 60 + r], &whole[t * 64 + r + 2], sizeof(float)), 0) << "n=" << n << " row " << r;
    std::vector<double> want, magnitude;
    reference::Matmul(shifted, x.data(), n, &want, &magnitude);
    EXPECT_LE(MaxRelativeError(part, want, magnitude), 1e-5) << "n=" << n;
    EXPECT_NE(part[0], whole[1]);  // negative control: a neighbouring row differs
  }
}

// Activations times block scales beyond 2^6 would overflow x * s * 2^120: such a token's scaled
// activations take 2^-k and its outputs 2^k (kernels/cpu/fused_dot-inl.h). It must still match the
// reference, with the bits it has alone when it shares a pass with an ordinary token.
TEST_P(MatmulOnEachTarget, Fp8LargeActivationsTimesLargeScalesStayFinite) {
  std::mt19937 rng(37);
  Fp8Matrix w(8, 256 + 5, 128, rng);
  for (auto& s : w.scales) s *= 1000.0f;  // 1 to 10
  std::vector<float> x = RandomFloats(3 * w.view.cols, rng);
  for (int64_t c = 0; c < w.view.cols; ++c) x[c] *= 1e4f;  // token 0: |x| s up to ~4e5
  ThreadPool pool(2);
  std::vector<float> alone(8);
  Matmul(w.view, x.data(), 1, alone.data(), pool);
  for (int64_t n : {1, 2, 3}) {  // alone, a pair, a pair and a lone token
    std::vector<float> y(n * 8);
    Matmul(w.view, x.data(), n, y.data(), pool);
    std::vector<double> want, magnitude;
    reference::Matmul(w.view, x.data(), n, &want, &magnitude);
    EXPECT_LE(MaxRelativeError(y, want, magnitude), 1e-5) << "n=" << n;
    EXPECT_EQ(std::memcmp(y.data(), alone.data(), 8 * sizeof(float)), 0) << "n=" << n;
  }
}

// A tile with an FP8 NaN code is decoded and dotted from memory (Fp8TileByRows); its other rows must keep
// the fused kernel's bits, for a lone token and for tokens in pairs.
TEST_P(MatmulOnEachTarget, Fp8DecodedTileEqualsFusedKernelBitForBit) {
  std::mt19937 rng(19);
  const int64_t cols = 384 + 5;  // a column tail after the last full block
  Fp8Matrix w(8, cols, 128, rng);
  const std::vector<uint8_t> clean = w.bytes;
  w.bytes[1 + 5 * cols + 200] = 0xff;  // row 5: its tile (rows 4..7) takes the decoded path
  WeightMatrix fused = w.view;
  fused.data = reinterpret_cast<const std::byte*>(clean.data() + 1);
  ThreadPool pool(2);
  for (int64_t n : {1, 2, 3}) {
    const std::vector<float> x = RandomFloats(n * cols, rng);
    std::vector<float> decoded(n * 8), in_registers(n * 8);
    Matmul(w.view, x.data(), n, decoded.data(), pool);
    Matmul(fused, x.data(), n, in_registers.data(), pool);
    for (int64_t t = 0; t < n; ++t)
      for (int64_t r = 0; r < 8; ++r) {
        if (r == 5) {
          EXPECT_TRUE(std::isnan(decoded[t * 8 + r]));
          EXPECT_FALSE(std::isnan(in_registers[t * 8 + r]));
        } else {
          EXPECT_EQ(std::memcmp(&decoded[t * 8 + r], &in_registers[t * 8 + r], sizeof(float)), 0) << "n=" << n << " row " << r;
        }
      }
  }
}

bool SameBits(const std::vector<float>& a, const std::vector<float>& b) {
  // memcmp must not see an empty vector's null data() (UBSan: nonnull argument).
  return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0);
}

// MatmulMany must give every product the bits Matmul gives it alone, whatever the thread count and the
// other products of the call: FP8 and BF16, partial last tiles, a partial FP8 row block, a column tail, a
// sub-block slice, a tile with a NaN code (decoded-tile fallback), an empty matrix, and token counts for
// the fused (1, 2), tiled (3) and sgemm (kMinGemmTokens) paths in one call.
TEST_P(MatmulOnEachTarget, ManyProductsEqualSeparateCallsBitForBit) {
  std::mt19937 rng(17);
  Fp8Matrix big(262, 389, 128, rng), odd(37, 45, 8, rng), nan(8, 256, 128, rng), empty(0, 64, 128, rng);
  nan.bytes[1 + 5 * 256 + 200] = 0xff;  // row 5, a NaN code
  std::vector<uint16_t> bf16(21 * 100);
  for (auto& b : bf16) b = FloatToBf16(std::normal_distribution<float>(0, 1)(rng));
  const WeightMatrix bf16_view{DType::kBF16, reinterpret_cast<const std::byte*>(bf16.data()), 0, 21, 100};
  const WeightMatrix slice = big.view.Rows(7, 130).Cols(61, 200);
  const struct { const WeightMatrix* w; int64_t n; } shapes[] = {
      {&big.view, 1}, {&odd.view, 2}, {&nan.view, 1}, {&bf16_view, 1}, {&empty.view, 1},
      {&slice, 3},    {&bf16_view, 2}, {&big.view, kMinGemmTokens},  {&odd.view, 1}};
  std::vector<std::vector<float>> xs, separate;
  std::vector<MatmulProduct> products;
  ThreadPool one(1);
  for (const auto& s : shapes) {
    xs.push_back(RandomFloats(s.n * s.w->cols, rng));
    separate.emplace_back(s.n * s.w->rows);
    Matmul(*s.w, xs.back().data(), s.n, separate.back().data(), one);
  }
  for (const int threads : {1, 2, 3, 5}) {
    ThreadPool pool(threads);
    std::vector<std::vector<float>> many;
    products.clear();
    for (size_t i = 0; i < std::size(shapes); ++i) {
      many.emplace_back(separate[i].size(), -1.0f);
      products.push_back({shapes[i].w, xs[i].data(), shapes[i].n, many.back().data()});
    }
    MatmulMany(products, pool);
    for (size_t i = 0; i < std::size(shapes); ++i) EXPECT_TRUE(SameBits(many[i], separate[i])) << "product " << i << ", " << threads << " threads";
    EXPECT_TRUE(std::isnan(many[2][5]));
  }
  // Negative control: the first product with another activation row gives other bits.
  std::vector<float> other(separate[0].size());
  const std::vector<float> x_other = RandomFloats(big.view.cols, rng);
  const MatmulProduct swapped{&big.view, x_other.data(), 1, other.data()};
  MatmulMany({&swapped, 1}, one);
  EXPECT_FALSE(SameBits(other, separate[0]));
}

// MatmulTransposed accumulates each output vector in registers over the rows: it must give the bits of
// the row-by-row form (decode row r, y += x[r] * row with Axpy) on every layout, including vectors that
// straddle FP8 column blocks (8-column blocks; a slice starting at column 61), which take that form, a
// partial row block, a column tail, a NaN code, BF16 and F32, for any thread count.
TEST_P(MatmulOnEachTarget, TransposedEqualsRowByRowFormBitForBit) {
  std::mt19937 rng(19);
  Fp8Matrix fp8(130, 200, 128, rng), small_blocks(40, 96, 8, rng), wide(64, 320, 128, rng);
  fp8.bytes[1 + 3 * 200 + 17] = 0x7f;  // row 3, column 17: a NaN code
  std::vector<uint16_t> bf16(37 * 45);
  for (auto& b : bf16) b = FloatToBf16(std::normal_distribution<float>(0, 1)(rng));
  std::vector<float> f32 = RandomFloats(33 * 80, rng);
  const WeightMatrix matrices[] = {
      fp8.view, small_blocks.view, wide.view.Rows(5, 50).Cols(61, 200), wide.view.Cols(128, 192),
      {DType::kBF16, reinterpret_cast<const std::byte*>(bf16.data()), 0, 37, 45},
      {DType::kF32, reinterpret_cast<const std::byte*>(f32.data()), 0, 33, 80}};
  ThreadPool one(1);
  std::vector<std::vector<float>> xs, wants;  // per (matrix, n), for MatmulTransposedMany below
  std::vector<MatmulProduct> products;
  for (const WeightMatrix& w : matrices)
    for (const int64_t n : {1, 3, 4, 9}) {  // 4 and 9: whole and partial passes of kTransposedTokens
      const std::vector<float> x = RandomFloats(n * w.rows, rng);
      std::vector<float> want(n * w.cols, 0.0f), row(w.cols);
      for (int64_t r = 0; r < w.rows; ++r) {
        DequantizeRow(w, r, row.data());
        for (int64_t t = 0; t < n; ++t) Axpy(x[t * w.rows + r], row.data(), want.data() + t * w.cols, w.cols);
      }
      for (const int threads : {1, 3}) {
        ThreadPool pool(threads);
        std::vector<float> got(n * w.cols);
        MatmulTransposed(w, x.data(), n, got.data(), pool);
        EXPECT_TRUE(SameBits(got, want)) << w.rows << "x" << w.cols << " n=" << n << ", " << threads << " threads";
        if (&w == &matrices[0]) {
          EXPECT_TRUE(std::isnan(got[17]));
        }
      }
      xs.push_back(x);
      wants.push_back(want);
      products.push_back({&w, nullptr, n, nullptr});  // x and y set below, once xs stops growing
      // Negative control: one more row's contribution changes the bits.
      Axpy(1.0f, row.data(), want.data(), w.cols);
      std::vector<float> got(n * w.cols);
      MatmulTransposed(w, x.data(), n, got.data(), one);
      EXPECT_FALSE(SameBits(got, want));
    }
  // All of them in one call: the same bits as each alone.
  std::vector<std::vector<float>> many(wants.size());
  for (size_t i = 0; i < wants.size(); ++i) {
    many[i].resize(wants[i].size());
    products[i].x = xs[i].data();
    products[i].y = many[i].data();
  }
  ThreadPool two(2);
  MatmulTransposedMany(products, two);
  for (size_t i = 0; i < wants.size(); ++i) EXPECT_TRUE(SameBits(many[i], wants[i])) << "product " << i;
}

TEST(Matmul, DecodesE4m3EdgeCodes) {
  // code -> value, one reason each.
  const struct { uint8_t code; float value; const char* why; } rows[] = {
      {0x00, 0.0f, "zero"},
      {0x01, 0x1p-9f, "smallest subnormal"},
      {0x07, 7 * 0x1p-9f, "largest subnormal"},
      {0x08, 0x1p-6f, "smallest normal"},
      {0x7e, 448.0f, "largest finite"},
      {0xfe, -448.0f, "negative largest finite"},
      {0x38, 1.0f, "one"},
  };
  for (const auto& row : rows) {
    std::vector<uint8_t> bytes(20, row.code);  // 20 > lanes: the SIMD path decodes it
    const float scale = 1.0f;
    const WeightMatrix w{DType::kF8E4M3, reinterpret_cast<const std::byte*>(bytes.data()), 0, 1, 20, &scale, 1, 128, 128};
    std::vector<float> out(20);
    DequantizeRow(w, 0, out.data());
    EXPECT_EQ(out[0], row.value) << row.why;
    EXPECT_EQ(out[19], row.value) << row.why << " (scalar tail)";
  }
  std::vector<uint8_t> nan_code(20, 0x7f);
  const float scale = 1.0f;
  const WeightMatrix w{DType::kF8E4M3, reinterpret_cast<const std::byte*>(nan_code.data()), 0, 1, 20, &scale, 1, 128, 128};
  std::vector<float> out(20);
  DequantizeRow(w, 0, out.data());
  EXPECT_TRUE(std::isnan(out[0])) << "0x7f is NaN in e4m3fn";
}

}  // namespace
}  // namespace sieve::kernels
