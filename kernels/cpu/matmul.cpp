// SIMD bodies of kernels/matmul.h, compiled once per Highway target (foreach_target) and chosen at
// runtime with HWY_DYNAMIC_DISPATCH. Weights are decoded to fp32 a few rows at a time, right before use,
// and each decoded tile serves every token of the batch. From kMinGemmTokens token rows on, Matmul and
// MatmulTransposed hand over to the library GEMM of kernels/blas_gemm.h instead.
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/cpu/matmul.cpp"
#include <hwy/foreach_target.h>  // must come before highway.h
#include <hwy/highway.h>

#include <algorithm>
#include <cstring>
#include <limits>
#include <vector>

#include "kernels/blas_gemm.h"
#include "kernels/cpu/fused_dot-inl.h"
#include "kernels/matmul.h"

HWY_BEFORE_NAMESPACE();
namespace sieve::kernels::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// e4m3 "fn" -> fp32 without a table: placing the 7 magnitude bits at bit 20 makes a float32 whose
// value is e4m3 * 2^-120 for normal and subnormal codes alike (4-bit exponent lands in the float's
// exponent field, 3-bit mantissa at its top), so one exact multiply by 2^120 restores it; the block
// scale is then applied with one rounding, as the reference's `e4m3.float() * scale`.
void DecodeE4m3(const uint8_t* src, float scale, int64_t n, float* out) {
  const hn::ScalableTag<float> df;
  const hn::RebindToUnsigned<decltype(df)> du;
  const hn::Rebind<uint8_t, decltype(df)> d8;
  const int64_t lanes = static_cast<int64_t>(hn::Lanes(df));
  const auto exp_shift = hn::Set(df, 0x1p120f);
  const auto vscale = hn::Set(df, scale);
  const auto nan = hn::Set(df, std::numeric_limits<float>::quiet_NaN());
  int64_t i = 0;
  for (; i + lanes <= n; i += lanes) {
    const auto bits = hn::PromoteTo(du, hn::LoadU(d8, src + i));
    const auto magnitude = hn::And(bits, hn::Set(du, 0x7Fu));
    const auto sign = hn::ShiftLeft<24>(hn::And(bits, hn::Set(du, 0x80u)));
    const auto f = hn::BitCast(df, hn::Or(sign, hn::ShiftLeft<20>(magnitude)));
    const auto v = hn::Mul(hn::Mul(f, exp_shift), vscale);
    const auto is_nan = hn::RebindMask(df, hn::Eq(magnitude, hn::Set(du, 0x7Fu)));  // 0x7f/0xff
    hn::StoreU(hn::IfThenElse(is_nan, nan, v), df, out + i);
  }
  for (; i < n; ++i) out[i] = E4m3ToFloat(src[i]) * scale;
}

void DecodeBf16(const uint16_t* src, int64_t n, float* out) {
  const hn::ScalableTag<float> df;
  const hn::RebindToUnsigned<decltype(df)> du;
  const hn::Rebind<uint16_t, decltype(df)> d16;
  const int64_t lanes = static_cast<int64_t>(hn::Lanes(df));
  int64_t i = 0;
  for (; i + lanes <= n; i += lanes) {
    const auto bits = hn::ShiftLeft<16>(hn::PromoteTo(du, hn::LoadU(d16, src + i)));
    hn::StoreU(hn::BitCast(df, bits), df, out + i);
  }
  for (; i < n; ++i) out[i] = Bf16ToFloat(src[i]);
}

// Columns [c0, c1) of row r of w, as fp32.
void DecodeRange(const WeightMatrix& w, int64_t r, int64_t c0, int64_t c1, float* out) {
  const std::byte* row = w.RowBytes(r);
  switch (w.dtype) {
    case DType::kF8E4M3: {
      const float* scales = w.scale_inv + ((w.row_begin + r) / w.block_rows) * w.scale_cols;
      for (int64_t c = c0; c < c1;) {  // one segment per column block of the tensor: each has its own scale
        const int64_t end = std::min(c1, ((w.col_begin + c) / w.block_cols + 1) * w.block_cols - w.col_begin);
        DecodeE4m3(reinterpret_cast<const uint8_t*>(row) + c, w.ColumnScale(scales, c), end - c, out + (c - c0));
        c = end;
      }
      break;
    }
    case DType::kBF16: DecodeBf16(reinterpret_cast<const uint16_t*>(row) + c0, c1 - c0, out); break;
    case DType::kF32: std::memcpy(out, reinterpret_cast<const float*>(row) + c0, (c1 - c0) * sizeof(float)); break;
    default:  // F16: rare in DeepSeek checkpoints; the scalar conversion is enough
      for (int64_t c = c0; c < c1; ++c) {
        uint16_t bits;
        std::memcpy(&bits, row + 2 * c, 2);
        out[c - c0] = F16ToFloat(bits);
      }
  }
}

float DotImpl(const float* a, const float* b, int64_t n) {
  const hn::ScalableTag<float> df;
  const int64_t lanes = static_cast<int64_t>(hn::Lanes(df));
  auto s0 = hn::Zero(df), s1 = hn::Zero(df), s2 = hn::Zero(df), s3 = hn::Zero(df);
  int64_t i = 0;
  for (; i + 4 * lanes <= n; i += 4 * lanes) {
    s0 = hn::MulAdd(hn::LoadU(df, a + i), hn::LoadU(df, b + i), s0);
    s1 = hn::MulAdd(hn::LoadU(df, a + i + lanes), hn::LoadU(df, b + i + lanes), s1);
    s2 = hn::MulAdd(hn::LoadU(df, a + i + 2 * lanes), hn::LoadU(df, b + i + 2 * lanes), s2);
    s3 = hn::MulAdd(hn::LoadU(df, a + i + 3 * lanes), hn::LoadU(df, b + i + 3 * lanes), s3);
  }
  for (; i + lanes <= n; i += lanes) s0 = hn::MulAdd(hn::LoadU(df, a + i), hn::LoadU(df, b + i), s0);
  float sum = hn::GetLane(hn::SumOfLanes(df, hn::Add(hn::Add(s0, s1), hn::Add(s2, s3))));
  for (; i < n; ++i) sum += a[i] * b[i];
  return sum;
}

// out[k] = x . w[k] for a tile of kTileRows = 4 decoded rows w [4, n]: each load of x feeds four FMAs
// instead of one, which matters once many tokens share the tile (prefill).
void Dot4Impl(const float* x, const float* w, int64_t n, float* out) {
  const hn::ScalableTag<float> df;
  const int64_t lanes = static_cast<int64_t>(hn::Lanes(df));
  const float* w0 = w;
  const float* w1 = w + n;
  const float* w2 = w + 2 * n;
  const float* w3 = w + 3 * n;
  auto a0 = hn::Zero(df), a1 = hn::Zero(df), a2 = hn::Zero(df), a3 = hn::Zero(df);
  auto b0 = hn::Zero(df), b1 = hn::Zero(df), b2 = hn::Zero(df), b3 = hn::Zero(df);
  int64_t i = 0;
  for (; i + 2 * lanes <= n; i += 2 * lanes) {
    const auto x0 = hn::LoadU(df, x + i), x1 = hn::LoadU(df, x + i + lanes);
    a0 = hn::MulAdd(x0, hn::LoadU(df, w0 + i), a0);
    a1 = hn::MulAdd(x0, hn::LoadU(df, w1 + i), a1);
    a2 = hn::MulAdd(x0, hn::LoadU(df, w2 + i), a2);
    a3 = hn::MulAdd(x0, hn::LoadU(df, w3 + i), a3);
    b0 = hn::MulAdd(x1, hn::LoadU(df, w0 + i + lanes), b0);
    b1 = hn::MulAdd(x1, hn::LoadU(df, w1 + i + lanes), b1);
    b2 = hn::MulAdd(x1, hn::LoadU(df, w2 + i + lanes), b2);
    b3 = hn::MulAdd(x1, hn::LoadU(df, w3 + i + lanes), b3);
  }
  for (; i + lanes <= n; i += lanes) {
    const auto x0 = hn::LoadU(df, x + i);
    a0 = hn::MulAdd(x0, hn::LoadU(df, w0 + i), a0);
    a1 = hn::MulAdd(x0, hn::LoadU(df, w1 + i), a1);
    a2 = hn::MulAdd(x0, hn::LoadU(df, w2 + i), a2);
    a3 = hn::MulAdd(x0, hn::LoadU(df, w3 + i), a3);
  }
  out[0] = hn::GetLane(hn::SumOfLanes(df, hn::Add(a0, b0)));
  out[1] = hn::GetLane(hn::SumOfLanes(df, hn::Add(a1, b1)));
  out[2] = hn::GetLane(hn::SumOfLanes(df, hn::Add(a2, b2)));
  out[3] = hn::GetLane(hn::SumOfLanes(df, hn::Add(a3, b3)));
  for (; i < n; ++i) {
    out[0] += x[i] * w0[i];
    out[1] += x[i] * w1[i];
    out[2] += x[i] * w2[i];
    out[3] += x[i] * w3[i];
  }
}

// Dot4Impl for two tokens at once (out [2, 4]): each weight vector loaded feeds two FMAs, so a pair costs
// 12 loads per 16 FMAs instead of 20. Every output keeps Dot4Impl's accumulators and order (even chunks
// in `a`, odd in `b`, then the same reductions), so the bits do not depend on how tokens are paired.
void Dot4x2Impl(const float* x, const float* x2, const float* w, int64_t n, float* out, float* out2) {
  const hn::ScalableTag<float> df;
  const int64_t lanes = static_cast<int64_t>(hn::Lanes(df));
  const float* wr[4] = {w, w + n, w + 2 * n, w + 3 * n};
  decltype(hn::Zero(df)) a[2][4], b[2][4];
  for (int t = 0; t < 2; ++t)
    for (int k = 0; k < 4; ++k) a[t][k] = b[t][k] = hn::Zero(df);
  int64_t i = 0;
  for (; i + 2 * lanes <= n; i += 2 * lanes) {
    const auto x0 = hn::LoadU(df, x + i), x1 = hn::LoadU(df, x + i + lanes);
    const auto y0 = hn::LoadU(df, x2 + i), y1 = hn::LoadU(df, x2 + i + lanes);
    for (int k = 0; k < 4; ++k) {
      const auto w0 = hn::LoadU(df, wr[k] + i), w1 = hn::LoadU(df, wr[k] + i + lanes);
      a[0][k] = hn::MulAdd(x0, w0, a[0][k]);
      a[1][k] = hn::MulAdd(y0, w0, a[1][k]);
      b[0][k] = hn::MulAdd(x1, w1, b[0][k]);
      b[1][k] = hn::MulAdd(y1, w1, b[1][k]);
    }
  }
  for (; i + lanes <= n; i += lanes) {
    const auto x0 = hn::LoadU(df, x + i), y0 = hn::LoadU(df, x2 + i);
    for (int k = 0; k < 4; ++k) {
      const auto w0 = hn::LoadU(df, wr[k] + i);
      a[0][k] = hn::MulAdd(x0, w0, a[0][k]);
      a[1][k] = hn::MulAdd(y0, w0, a[1][k]);
    }
  }
  for (int k = 0; k < 4; ++k) {
    out[k] = hn::GetLane(hn::SumOfLanes(df, hn::Add(a[0][k], b[0][k])));
    out2[k] = hn::GetLane(hn::SumOfLanes(df, hn::Add(a[1][k], b[1][k])));
  }
  for (; i < n; ++i)
    for (int k = 0; k < 4; ++k) {
      out[k] += x[i] * wr[k][i];
      out2[k] += x2[i] * wr[k][i];
    }
}

void AxpyImpl(float alpha, const float* x, float* y, int64_t n) {
  const hn::ScalableTag<float> df;
  const int64_t lanes = static_cast<int64_t>(hn::Lanes(df));
  const auto va = hn::Set(df, alpha);
  int64_t i = 0;
  for (; i + lanes <= n; i += lanes)
    hn::StoreU(hn::MulAdd(va, hn::LoadU(df, x + i), hn::LoadU(df, y + i)), df, y + i);
  for (; i < n; ++i) y[i] += alpha * x[i];
}

// Rows decoded together: small enough to stay in L1/L2 for the real model's 7168 columns, large enough
// that each activation row is loaded once per tile instead of once per weight row.
constexpr int64_t kTileRows = 4;
static_assert(kTileRows == kFusedRows, "a fused pass must cover exactly one tile, in Dot4Impl's order");
// Up to this many tokens, full tiles are computed straight from the weight bytes (FusedDot): decoding
// into a tile then pays a store and a reload per weight for at most this many uses.
constexpr int64_t kMaxFusedTokens = 2;

// Tiles start at multiples of kTileRows in every thread split (grain), so whether a row goes through
// Dot4Impl or DotImpl (the last, partial tile) never depends on the thread count.
// Dot4Impl over DotImpl alone: small-preset prefill of 128 tokens, 1 thread, 1.65 -> 1.39 s CPU (forward_bench).
void MatmulImpl(const WeightMatrix& w, const float* x, int64_t n, float* y, ThreadPool& pool) {
  const bool fused = n <= kMaxFusedTokens && CanFuse(w);
  pool.ParallelFor(w.rows, [&](int64_t r0, int64_t r1) {
    thread_local std::vector<float> tile;  // reused across calls and steps: no allocation in the hot path
    tile.resize(static_cast<size_t>(kTileRows * w.cols));
    float dots[kTileRows];
    for (int64_t r = r0; r < r1; r += kTileRows) {
      const int64_t tile_rows = std::min(kTileRows, r1 - r);
      if (fused && tile_rows == kTileRows) {
        int64_t t = 0;  // FusedDot refuses a tile with an FP8 NaN code at t = 0, before writing anything
        for (; t < n && FusedDot(x + t * w.cols, w, r, dots); ++t) std::copy_n(dots, kTileRows, y + t * w.rows + r);
        if (t == n) continue;
      }
      for (int64_t k = 0; k < tile_rows; ++k) DecodeRange(w, r + k, 0, w.cols, tile.data() + k * w.cols);
      if (tile_rows == kTileRows) {
        int64_t t = 0;
        for (; t + 2 <= n; t += 2) {
          float dots2[kTileRows];
          Dot4x2Impl(x + t * w.cols, x + (t + 1) * w.cols, tile.data(), w.cols, dots, dots2);
          std::copy_n(dots, kTileRows, y + t * w.rows + r);
          std::copy_n(dots2, kTileRows, y + (t + 1) * w.rows + r);
        }
        if (t < n) {
          Dot4Impl(x + t * w.cols, tile.data(), w.cols, dots);
          std::copy_n(dots, kTileRows, y + t * w.rows + r);
        }
        continue;
      }
      for (int64_t t = 0; t < n; ++t)  // the last, partial tile
        for (int64_t k = 0; k < tile_rows; ++k)
          y[t * w.rows + r + k] = DotImpl(x + t * w.cols, tile.data() + k * w.cols, w.cols);
    }
  }, /*grain=*/kTileRows);
}

void MatmulTransposedImpl(const WeightMatrix& w, const float* x, int64_t n, float* y, ThreadPool& pool) {
  pool.ParallelFor(w.cols, [&](int64_t c0, int64_t c1) {
    std::vector<float> row(static_cast<size_t>(c1 - c0));
    for (int64_t t = 0; t < n; ++t) std::fill(y + t * w.cols + c0, y + t * w.cols + c1, 0.0f);
    for (int64_t r = 0; r < w.rows; ++r) {  // fixed order over r: same sums for any split of columns
      DecodeRange(w, r, c0, c1, row.data());
      for (int64_t t = 0; t < n; ++t) AxpyImpl(x[t * w.rows + r], row.data(), y + t * w.cols + c0, c1 - c0);
    }
  }, /*grain=*/16);
}

void DequantizeRowImpl(const WeightMatrix& w, int64_t r, float* out) { DecodeRange(w, r, 0, w.cols, out); }

}  // namespace sieve::kernels::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace sieve::kernels {
HWY_EXPORT(MatmulImpl);
HWY_EXPORT(MatmulTransposedImpl);
HWY_EXPORT(DequantizeRowImpl);
HWY_EXPORT(DotImpl);
HWY_EXPORT(AxpyImpl);

void Matmul(const WeightMatrix& w, const float* x, int64_t n, float* y, ThreadPool& pool) {
  if (n >= kMinGemmTokens) return GemmMatmul(w, x, n, y, pool);
  HWY_DYNAMIC_DISPATCH(MatmulImpl)(w, x, n, y, pool);
}
void MatmulTransposed(const WeightMatrix& w, const float* x, int64_t n, float* y, ThreadPool& pool) {
  if (n >= kMinGemmTokens) return GemmMatmulTransposed(w, x, n, y, pool);
  HWY_DYNAMIC_DISPATCH(MatmulTransposedImpl)(w, x, n, y, pool);
}
void DequantizeRow(const WeightMatrix& w, int64_t r, float* out) { HWY_DYNAMIC_DISPATCH(DequantizeRowImpl)(w, r, out); }
float Dot(const float* a, const float* b, int64_t n) { return HWY_DYNAMIC_DISPATCH(DotImpl)(a, b, n); }
void Axpy(float alpha, const float* x, float* y, int64_t n) { HWY_DYNAMIC_DISPATCH(AxpyImpl)(alpha, x, y, n); }
}  // namespace sieve::kernels
#endif
