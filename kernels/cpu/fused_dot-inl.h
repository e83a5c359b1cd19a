// The decode GEMV's inner kernel: kFusedRows weight rows dotted with one activation row, reading the FP8 /
// BF16 / F32 weights in place and decoding them in registers, so each weight byte goes from memory to an
// FMA once. Included by kernels/cpu/matmul.cpp inside its per-target namespace (Highway's -inl.h pattern).
//
// Bits: every output equals Dot4Impl (kernels/cpu/matmul.cpp) on the tile DecodeRange writes for the same
// rows: per row, even vectors accumulate in `a`, odd ones in `b`, then the same reduction and scalar
// tail. So a token's logits do not depend on whether its step took this path or the tiled one.
#if defined(SIEVE_KERNELS_CPU_FUSED_DOT_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef SIEVE_KERNELS_CPU_FUSED_DOT_INL_H_
#undef SIEVE_KERNELS_CPU_FUSED_DOT_INL_H_
#else
#define SIEVE_KERNELS_CPU_FUSED_DOT_INL_H_
#endif

#include <hwy/cache_control.h>
#include <hwy/highway.h>

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "kernels/cpu/decode_lanes-inl.h"
#include "kernels/weight_matrix.h"

HWY_BEFORE_NAMESPACE();
namespace sieve::kernels::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// Rows per pass: each activation vector loaded feeds this many FMAs, and with two accumulators per row
// 2 x 4 = 8 independent FMA chains cover the FMA latency (4 cycles) x 2 FMA pipes.
constexpr int64_t kFusedRows = 4;

// Whether FusedDotRows can read w: F32 / BF16 always; FP8 when every vector pair lies inside one column
// block (so one scale per pair; blocks and the view's first column on multiples of 2 vectors) and every
// block scale times 2^120 is finite, so E4m3Lanes applies both factors in one multiply with the same
// result as (code * 2^-120 * 2^120) * scale: both round the exact product code * scale once.
bool CanFuse(const WeightMatrix& w) {
  const int64_t pair = 2 * static_cast<int64_t>(hn::Lanes(hn::ScalableTag<float>()));
  if (w.dtype == DType::kBF16 || w.dtype == DType::kF32) return true;
  if (w.dtype != DType::kF8E4M3 || w.block_cols % pair != 0 || w.col_begin % pair != 0) return false;
  const int64_t b0 = w.row_begin / w.block_rows, b1 = (w.row_begin + w.rows + w.block_rows - 1) / w.block_rows;
  const int64_t c0 = w.col_begin / w.block_cols, c1 = (w.col_begin + w.cols + w.block_cols - 1) / w.block_cols;
  for (int64_t b = b0; b < b1; ++b)
    for (int64_t c = c0; c < c1; ++c)
      if (!std::isfinite(w.scale_inv[b * w.scale_cols + c] * kE4m3Unbias)) return false;
  return true;
}

// Row sources for FusedDotRows. Segment(i) prepares columns from i on and returns where they end (the
// end of i's column block for FP8); Lanes(k, i) decodes one vector of row k; Scalar(k, i) one element,
// exactly as DecodeRange's scalar tail.
struct Fp8Rows {
  const WeightMatrix& w;
  const uint8_t* row[kFusedRows];
  const float* scales[kFusedRows];
  float scale[kFusedRows], folded[kFusedRows];  // the segment's block scales, and those times 2^120
  Fp8Rows(const WeightMatrix& m, int64_t r) : w(m) {
    for (int64_t k = 0; k < kFusedRows; ++k) {
      row[k] = reinterpret_cast<const uint8_t*>(m.RowBytes(r + k));
      scales[k] = m.scale_inv + ((m.row_begin + r + k) / m.block_rows) * m.scale_cols;
    }
  }
  int64_t Segment(int64_t i) {
    const int64_t block = (w.col_begin + i) / w.block_cols;
    for (int64_t k = 0; k < kFusedRows; ++k) {
      scale[k] = scales[k][block];
      folded[k] = scale[k] * kE4m3Unbias;
    }
    return std::min(w.cols, (block + 1) * w.block_cols - w.col_begin);
  }
  template <class D>
  HWY_INLINE hn::Vec<D> Lanes(D df, int64_t k, int64_t i) const {
    return E4m3Lanes(df, row[k] + i, hn::Set(df, folded[k]));
  }
  float Scalar(int64_t k, int64_t i) const { return E4m3ToFloat(row[k][i]) * scale[k]; }
};

struct Bf16Rows {
  const uint16_t* row[kFusedRows];
  int64_t cols;
  Bf16Rows(const WeightMatrix& m, int64_t r) : cols(m.cols) {
    for (int64_t k = 0; k < kFusedRows; ++k) row[k] = reinterpret_cast<const uint16_t*>(m.RowBytes(r + k));
  }
  int64_t Segment(int64_t) const { return cols; }
  template <class D>
  HWY_INLINE hn::Vec<D> Lanes(D df, int64_t k, int64_t i) const { return Bf16Lanes(df, row[k] + i); }
  float Scalar(int64_t k, int64_t i) const { return Bf16ToFloat(row[k][i]); }
};

struct F32Rows {
  const float* row[kFusedRows];
  int64_t cols;
  F32Rows(const WeightMatrix& m, int64_t r) : cols(m.cols) {
    for (int64_t k = 0; k < kFusedRows; ++k) row[k] = reinterpret_cast<const float*>(m.RowBytes(r + k));
  }
  int64_t Segment(int64_t) const { return cols; }
  template <class D>
  HWY_INLINE hn::Vec<D> Lanes(D df, int64_t k, int64_t i) const { return hn::LoadU(df, row[k] + i); }
  float Scalar(int64_t k, int64_t i) const { return row[k][i]; }
};

// out[k] = x . row k of `rows` over n columns, in Dot4Impl's order (see the top of this file).
template <class Rows>
HWY_INLINE void FusedDotRows(const float* x, int64_t n, Rows rows, float* out) {
  const hn::ScalableTag<float> df;
  const int64_t lanes = static_cast<int64_t>(hn::Lanes(df));
  hn::Vec<decltype(df)> a[kFusedRows], b[kFusedRows];
  for (int64_t k = 0; k < kFusedRows; ++k) a[k] = b[k] = hn::Zero(df);
  int64_t i = 0;
  while (i + 2 * lanes <= n) {
    const int64_t end = rows.Segment(i);  // a whole number of pairs, or the last segment
    for (; i + 2 * lanes <= end; i += 2 * lanes) {
      const auto x0 = hn::LoadU(df, x + i), x1 = hn::LoadU(df, x + i + lanes);
      for (int64_t k = 0; k < kFusedRows; ++k) {
        a[k] = hn::MulAdd(x0, rows.Lanes(df, k, i), a[k]);
        b[k] = hn::MulAdd(x1, rows.Lanes(df, k, i + lanes), b[k]);
      }
    }
  }
  if (i < n) rows.Segment(i);
  if (i + lanes <= n) {
    const auto x0 = hn::LoadU(df, x + i);
    for (int64_t k = 0; k < kFusedRows; ++k) a[k] = hn::MulAdd(x0, rows.Lanes(df, k, i), a[k]);
    i += lanes;
  }
  for (int64_t k = 0; k < kFusedRows; ++k) out[k] = hn::GetLane(hn::SumOfLanes(df, hn::Add(a[k], b[k])));
  for (; i < n; ++i)
    for (int64_t k = 0; k < kFusedRows; ++k) out[k] += x[i] * rows.Scalar(k, i);
}

// Tiles ahead that the decode GEMV prefetches (in its order of tiles, across the matrices of one call). A tile's rows are short streams (1-2 KiB each for hidden 1024)
// that start on a new page every tile, where the hardware prefetchers retrain and stop, so without help
// each tile begins with demand misses; one tile ahead was enough for FP8, two were better for BF16
// (single-thread CPU time over [32768 x 1024] BF16: 4.5-6.3 ms without, 3.2-3.3 ms at two tiles).
constexpr int64_t kPrefetchTiles = 2;

void PrefetchTile(const WeightMatrix& w, int64_t r) {
  if (r + kFusedRows > w.rows) return;
  // One out-of-line DTypeSize per tile, not one per row through RowBytes (1.2% of a decode step's samples).
  const int64_t size = static_cast<int64_t>(DTypeSize(w.dtype)), bytes = w.cols * size, pitch = w.pitch() * size;
  const std::byte* row = w.RowBytes(r);
  for (int64_t k = 0; k < kFusedRows; ++k, row += pitch)
    for (int64_t o = 0; o < bytes; o += 64) hwy::Prefetch(row + o);  // one per cache line
}

// The kFusedRows rows r.. of w against x (CanFuse(w)); false, with nothing written, when an FP8 row holds
// a NaN code: the caller then decodes the tile (DecodeRange handles NaN) and gets the same bits otherwise.
// The caller prefetches (PrefetchTile), kPrefetchTiles tiles ahead in its own order of tiles.
bool FusedDot(const float* x, const WeightMatrix& w, int64_t r, float* out) {
  switch (w.dtype) {
    case DType::kF8E4M3:
      for (int64_t k = 0; k < kFusedRows; ++k)
        if (HasE4m3Nan(reinterpret_cast<const uint8_t*>(w.RowBytes(r + k)), w.cols)) return false;
      FusedDotRows(x, w.cols, Fp8Rows(w, r), out);
      return true;
    case DType::kBF16: FusedDotRows(x, w.cols, Bf16Rows(w, r), out); return true;
    default: FusedDotRows(x, w.cols, F32Rows(w, r), out); return true;
  }
}

}  // namespace sieve::kernels::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#endif  // include guard
