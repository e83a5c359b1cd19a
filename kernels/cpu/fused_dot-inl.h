// The decode GEMV's inner kernel: kFusedRows weight rows dotted with up to kWideTokens activation rows,
// reading the FP8 / BF16 / F32 weights in place and decoding them in registers, so each weight byte goes
// from memory to an FMA once. Included by kernels/cpu/matmul.cpp inside its per-target namespace (Highway's
// -inl.h pattern).
//
// Bits: each token's outputs are the same whether its pass carries one, two or four tokens, and FP8
// tiles with a NaN code (decoded by DecodeE4m3Codes, then Fp8TileRowDot: DotRowGroup for both) give the
// fused kernel's bits in their other rows. So a token's logits do not depend on how many tokens share
// its step (below kMinGemmTokens).
#if defined(SIEVE_KERNELS_CPU_FUSED_DOT_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef SIEVE_KERNELS_CPU_FUSED_DOT_INL_H_
#undef SIEVE_KERNELS_CPU_FUSED_DOT_INL_H_
#else
#define SIEVE_KERNELS_CPU_FUSED_DOT_INL_H_
#endif

#include <hwy/highway.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <type_traits>

#include "kernels/cpu/decode_lanes-inl.h"
#include "kernels/fp8_nan_memo.h"
#include "kernels/weight_matrix.h"

HWY_BEFORE_NAMESPACE();
namespace sieve::kernels::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// Rows per pass (a tile): the unit of prefetching, NaN checks and output; OneRowAtATime says how many of its
// rows the kernels below dot at once.
constexpr int64_t kFusedRows = 4;

// FP8 numerics of the GEMV below kMinGemmTokens (fused and tiled alike). The checkpoint's weight is
// W[o, j] = c_j * s_b(j) (kernels/weight_matrix.h), and the exactness target computes W in fp32 and then
// its dot with x (the fixture's fp32 mode, ../shared/fixtures/tiny-dsv32-a/README.md). The kernels move
// the block scale to the activation instead: out = 2^k * sum_j (c_j * 2^-120) * x'_j, x'_j = x_j * s_b(j)
// * 2^(120 - k), with c_j * 2^-120 the exact E4m3CodeLanes value, so that an FP8 row is dotted like a
// BF16 one. Each product keeps one rounding (of x_j * s_b(j) instead of c_j * s_b(j)), and the products
// have their real magnitudes, so they are subnormal exactly where the fp32 target's are. The caller writes
// x' once per row block of 128 rows (ScaleFp8Activations in kernels/cpu/matmul.cpp); k is 0 unless |x| *
// s would overflow x'. Summing each 128-column block apart and then scaling it, as the reference's FP8
// GEMM kernel does, cost an add and an FMA per 8 FMAs at one token and 16 operations per 64 at two
// tokens x four rows: 9-13% of the kernel's time (docs/performance.md, round 20).

// The largest |block scale| of the FP8 view w (NaN if one is NaN).
float MaxBlockScale(const WeightMatrix& w) {
  const int64_t b0 = w.row_begin / w.block_rows, b1 = (w.row_begin + w.rows + w.block_rows - 1) / w.block_rows;
  const int64_t c0 = w.col_begin / w.block_cols, c1 = (w.col_begin + w.cols + w.block_cols - 1) / w.block_cols;
  float largest = 0.0f;
  for (int64_t b = b0; b < b1; ++b)
    for (int64_t c = c0; c < c1; ++c) {
      const float s = std::fabs(w.scale_inv[b * w.scale_cols + c]);
      if (std::isnan(s)) return s;
      largest = std::max(largest, s);
    }
  return largest;
}

// Whether FusedDotRows can read w: F32 / BF16 always; FP8 when its largest block scale, max_scale, times
// 2^120 is finite (the scaled activations carry that factor).
bool CanFuse(const WeightMatrix& w, float max_scale) {
  if (w.dtype == DType::kBF16 || w.dtype == DType::kF32) return true;
  return w.dtype == DType::kF8E4M3 && std::isfinite(max_scale * kE4m3Unbias);
}

// FP8 row sources: Lanes(k, i) is one vector of row k as code * 2^-120, Scalar(k, i) one element, read
// from the codes in place (against activations scaled as above).
struct Fp8Rows {
  const uint8_t* row[kFusedRows];
  Fp8Rows(const WeightMatrix& m, int64_t r) {
    for (int64_t k = 0; k < kFusedRows; ++k) row[k] = reinterpret_cast<const uint8_t*>(m.RowBytes(r + k));
  }
  template <class D>
  HWY_INLINE hn::Vec<D> Lanes(D df, int64_t k, int64_t i) const { return E4m3CodeLanes(df, row[k] + i); }
  float Scalar(int64_t k, int64_t i) const { return E4m3ToFloat(row[k][i]) * 0x1p-120f; }  // exact
};

struct Bf16Rows {
  const uint16_t* row[kFusedRows];
  Bf16Rows(const WeightMatrix& m, int64_t r) {
    for (int64_t k = 0; k < kFusedRows; ++k) row[k] = reinterpret_cast<const uint16_t*>(m.RowBytes(r + k));
  }
  template <class D>
  HWY_INLINE hn::Vec<D> Lanes(D df, int64_t k, int64_t i) const { return Bf16Lanes(df, row[k] + i); }
  float Scalar(int64_t k, int64_t i) const { return Bf16ToFloat(row[k][i]); }
};

// F32 rows: a matrix's, or a tile of FP8 rows that DecodeE4m3Codes wrote (code * 2^-120, NaN codes as NaN),
// which then give the bits of Fp8Rows.
struct F32Rows {
  const float* row[kFusedRows];
  F32Rows(const float* first, int64_t pitch) {
    for (int64_t k = 0; k < kFusedRows; ++k) row[k] = first + k * pitch;
  }
  F32Rows(const WeightMatrix& m, int64_t r) : F32Rows(reinterpret_cast<const float*>(m.RowBytes(r)), m.pitch()) {}
  template <class D>
  HWY_INLINE hn::Vec<D> Lanes(D df, int64_t k, int64_t i) const { return hn::LoadU(df, row[k] + i); }
  float Scalar(int64_t k, int64_t i) const { return row[k][i]; }
};

// Tokens per pass of the fused kernels: each weight vector decoded in registers feeds this many tokens.
// A pass of kFusedTokens reads G rows of the tile together (OneRowAtATime below). An FP8 product whose
// rows are read together first takes passes of kWideTokens tokens against kWideRows rows: 4 tokens x 2
// rows x 2 accumulators hold 16 registers, as 2 tokens x 4 rows do, but each decoded weight vector feeds
// four FMAs instead of two, which halves the FP8 decode (three integer operations per vector) per FMA, for
// twice the activation loads per FMA. In-process A/B on the AMD machine of docs/performance.md (round 22),
// time of 4 x 2 / 2 x 4: FP8 at 16 tokens [256 x 1024] 0.81-0.86, [9362 x 7168] 0.83-0.85, [32768 x 2048]
// 0.875-0.89; at 8 tokens 0.85-0.97, at 5-6 0.88-0.90. End to end (a step of 16 tokens) 0.94-0.96 on
// `medium`, 0.96-1.00 on `small`, whose FP8 products at 16 tokens are only the attention's. BF16 decodes
// a vector in two operations and lost: [129280 x 1024] 0.97-1.03, [16384 x 7168] 1.17. 4 tokens x 1 row
// lost too (1.20-1.53: an activation load per FMA), and so did 6 x 2 (1.05-1.22: 24 accumulators leave
// too few registers).
constexpr int64_t kFusedTokens = 2;
constexpr int64_t kWideTokens = 4, kWideRows = 2;

// Rows dotted together (G) by the kernels below, in groups of a tile's rows. At one token G decides how
// the tile is read: G = 1 reads each row front to back (one stream, which the hardware prefetcher
// follows) and loads x once per row; G = 4 interleaves the four rows (four short streams) and loads each
// x vector once for the four. One row at a time pays while x (4 bytes per column) stays in L1 beside the
// weight stream; once it does not, each row reads x again from L2, and four rows together win. FP8 reads
// 4 bytes of x per weight byte that way, BF16 2, so FP8 crosses over at half BF16's width. Measured on the
// AMD machine of docs/performance.md, 2 threads. FP8 (round 16, gemv_bench): [65536 x 1024] 1.5-2.3 ms
// one row at a time against 2.0-2.7 four together, [32768 x 2048] 1.7 against 2.4, but [16384 x 4096] 2.1
// against 1.7 and [9362 x 7168] 4.2 against 2.3. BF16: [129280 x 1024] 47-52 GB/s one row at a time
// against 35-38 (round 12); in-process A/B at one token, G = 4 / G = 1 (round 23, vector units shared
// with a neighbour): 2,048 columns 1.11, 4,096 1.03, 7,168 0.78, 16,384 0.71, and the full-shape 4-layer
// decode step, whose lm_head is [129280 x 7168], 0.84-0.87 (A/A 1.01). (Round 16 had timed separate
// binaries at 7,168 columns the other way, 55-58 ms against 48-53.) More tokens are bound by the
// FMAs, and 4 rows x 2 tokens x 2 accumulators = 16 independent chains cover the FMA latency x 2 pipes
// where one row's few do not, so they take G = 4, except in a call whose activations take at most 16 KiB
// (tokens x columns <= 4,096 floats) on rows of at least 512 columns (`small`'s hidden width 1,024 up to
// 4 tokens: its routed experts at batch 16, every projection of the hidden state at batches 2-4), which
// stream from DRAM faster one row at a time. In-process A/B over 64 MiB of [256 x cols] matrices, 16 per
// call (docs/performance.md, round 20), G = 1 / G = 4 at 2 / 3 / 4 tokens: 256 columns 1.04 / 1.02 / 1.10,
// 512 0.94 / 0.93 / 0.98-0.99 (5-8 tokens 0.93-1.02), 768 at 5 tokens 0.93, 1,024 0.63 / 0.80 / 0.83-0.96
// (BF16 0.66 / 0.63 / 0.77; 5 tokens 1.00), 1,536 0.74 / 0.88 / 1.09, 2,048 0.97 / 1.11 / 1.22, 7,168 2.01
// / 1.74 / 1.79. The order within a row, which fixes the bits, is the same either way.
constexpr int64_t kFp8OneRowMaxCols = 2048, kBf16OneRowMaxCols = 4096;
constexpr int64_t kOneRowMinCols = 512, kOneRowMaxCallFloats = 4096;
HWY_INLINE bool OneRowAtATime(int64_t tokens, int64_t call_tokens, const WeightMatrix& w) {
  if (call_tokens >= 2 && w.cols >= kOneRowMinCols && call_tokens * w.cols <= kOneRowMaxCallFloats) return true;
  if (tokens != 1) return false;
  switch (w.dtype) {
    case DType::kF8E4M3: return w.cols <= kFp8OneRowMaxCols;
    case DType::kBF16: return w.cols <= kBf16OneRowMaxCols;
    default: return true;  // F32: not measured, and its few matrices are narrow
  }
}

// Software prefetching of the decode GEMV's weights, tile by tile (TilePrefetch): the tile kPrefetchTiles
// ahead in the call's order of tiles, into L2, a part before each token pass of the current tile, for
// products of at least kPrefetchMinTokens tokens. With several tokens a tile is read by several passes
// whose activations (16 tokens x 4 KiB at 1,024 columns) evict whatever the hardware prefetchers brought
// to L1, and short rows (a new page every tile) do not train them. In-process A/B against no prefetching
// (docs/performance.md, round 21), time with / without: at 16 tokens BF16 [129280 x 1024] 0.80, FP8
// [65536 x 1024] 0.80-0.85, FP8 [32768 x 2048] 0.91, BF16 [65536 x 2048] 0.90-0.91, BF16 [16384 x 7168]
// 0.94, FP8 [9362 x 7168] 0.97-1.00; at 8 tokens 0.64-0.75, at 6 0.64-0.71 (1,024 columns); at 4
// 0.93-1.02, 3 0.96-1.07, 2 1.17-1.20, one token 1.06-1.08: with one or two passes the prefetches come as
// one burst, and a stream from DRAM does better with the hardware prefetchers alone. Into L1 instead
// (prefetcht0) the long rows lost (BF16 2,048 columns 1.17, 7,168 columns 1.08, FP8 7,168 1.07): a tile of
// 16-28 KiB brought to L1 evicts the activations the current tile's passes still read.
//
// Fewer tokens against a tile's rows read together (RowsTogether, by OneRowAtATime's rule: at one token FP8 over 2,048
// columns and BF16 over 4,096; at 2-5 tokens most calls whose activations exceed 16 KiB) are the exception: the tile's
// row streams of 4-7 KiB (one or two pages each) end at every tile and restart four rows on, which the hardware
// prefetchers learn anew each time, so one token read from DRAM at ~70% of the probe where one long row stream reaches
// ~90%. These prefetch the tile ahead in kSpreadParts or more parts spread over their passes' row groups, each group's
// columns cut into ranges (SpreadPrefetch). In-process A/B on the AMD machine of docs/performance.md (vector units
// shared with a neighbour), with / without. One token (round 23): FP8 [16384 x 7168] 0.77-0.83, 16 x [2048 x 7168] per
// call 0.87, [28672 x 4096] 0.92-0.93, [7168 x 16384] 0.96, BF16 [129280 x 7168] 0.86; the tile's prefetches in one
// burst instead 1.11-1.16; decode steps of the full-shape 4-layer checkpoint at batch 1 0.907 / 0.949. 2-5 tokens
// (round 24): FP8 16 x [2048 x 7168] 0.89 / 0.87 / 0.67 / 0.81 at 2 / 3 / 4 / 5 tokens, 16 x [7168 x 2048] 0.76 / 0.66
// at 3 / 4, [18432 x 7168] 0.85 / 0.72 at 2 / 4, 64 x [256 x 1024] 0.74 at 5, BF16 [8192 x 7168] 0.75 / 0.82 at 2 / 4,
// [129280 x 1024] 0.67 at 5; decode steps (`weight_load_bench`): `small` batch 5 0.75, 8 0.95 (its experts' few-token
// products), `medium` batch 4 0.82, 16 0.90, full-shape 4-layer batch 4 0.82, 16 0.96 (A/A 0.997-1.012). Rows of
// kSpreadMinWideCols or more columns spread it up to kSpreadMaxWideTokens tokens too, where a part per pass comes in
// two or three bursts (round 24): FP8 16 x [2048 x 7168] 0.88-0.90 / 0.91 / 0.97 / 0.99 at 6 / 8 / 12 / 16 tokens,
// [18432 x 7168] 0.96 at 8, BF16 [16384 x 7168] 0.94 / 1.05 at 8 / 16, but at 1,024-2,048 columns 8 tokens 1.02-1.11;
// full-shape 4-layer decode steps at batch 6 0.86, 8 0.93-0.94, 12 0.90 (A/A 1.00-1.07). One token cuts a tile of more
// than kSpreadParts x kOneTokenPartLines cache lines into parts of that many lines (round 24; FP8 rows of 7,168 columns
// take 14 parts, BF16 28): FP8 [7168 x 16384] 0.92-0.94, [7168 x 18432] 0.89, BF16 [129280 x 7168] 0.91-0.92, FP8
// [16384 x 7168] 1.00-1.02; parts of 64 lines 0.94-0.95, of 16 lines the same for FP8 but BF16 1.03; the full-shape
// 4-layer step at batch 1 0.921 (the variants' order reversed: 1.056; A/A 1.011), at batch 16 0.999, `medium` at batch
// 1 1.015.
constexpr int64_t kPrefetchTiles = 2;
constexpr int64_t kPrefetchMinTokens = 6;
constexpr int64_t kSpreadParts = 8, kOneTokenPartLines = 32;
constexpr int64_t kSpreadMaxWideTokens = 12, kSpreadMinWideCols = 4096;

// Whether a product of `tokens` tokens on w reads a tile's rows together (OneRowAtATime for its first
// pass: a call of 2+ tokens decides for all its passes of 2+ tokens).
HWY_INLINE bool RowsTogether(int64_t tokens, const WeightMatrix& w) {
  return !OneRowAtATime(std::min(tokens, kFusedTokens), tokens, w);
}

// Whether a product of `tokens` tokens on w prefetches its tiles (above).
HWY_INLINE bool PrefetchesTiles(int64_t tokens, const WeightMatrix& w) {
  return tokens >= kPrefetchMinTokens || RowsTogether(tokens, w);
}

// Whether a product of `tokens` tokens on w that prefetches its tiles spreads the parts over its row groups
// (SpreadPrefetch) rather than issuing one per pass (above).
HWY_INLINE bool SpreadsPrefetch(int64_t tokens, const WeightMatrix& w) {
  return tokens < kPrefetchMinTokens || (tokens <= kSpreadMaxWideTokens && w.cols >= kSpreadMinWideCols);
}

// A tile's cache lines (kFusedRows rows), prefetched in parts: Part(p, passes) before pass p of the tile
// being computed. Empty (first == nullptr): nothing to prefetch.
struct TilePrefetch {
  const std::byte* first = nullptr;  // row 0 of the tile; nullptr: nothing to prefetch
  int64_t pitch = 0;                 // bytes from one row to the next
  int64_t row_lines = 0;             // cache lines per row

  // Rows [r, r + kFusedRows) of w, read by `tokens` tokens; none unless PrefetchesTiles, or when w has
  // fewer rows left (its last, partial tile).
  static TilePrefetch For(const WeightMatrix& w, int64_t r, int64_t tokens) {
    if (!PrefetchesTiles(tokens, w) || r + kFusedRows > w.rows) return {};
    const int64_t size = static_cast<int64_t>(DTypeSize(w.dtype));
    return {w.RowBytes(r), w.pitch() * size, (w.cols * size + 63) / 64};
  }
  // Part p of `parts` equal parts of the tile's lines, row after row, into L2 (locality 2: prefetcht1 on
  // x86; Highway's Prefetch has only the L1 hint). The signal fence is a side effect for the compiler
  // only (no instruction): GCC 12 otherwise marks a prefetch loop like this one pure and deletes it with
  // the call, leaving no prefetch in the binary (seen with objdump).
  void Part(int64_t p, int64_t parts) const {
    if (first == nullptr) return;
    const int64_t lines = kFusedRows * row_lines, begin = p * lines / parts, end = (p + 1) * lines / parts;
    const std::byte* row = first + begin / row_lines * pitch;
    for (int64_t l = begin, line = begin % row_lines; l < end; ++l) {
      __builtin_prefetch(row + line * 64, /*rw=*/0, /*locality=*/2);
      if (++line == row_lines) {
        line = 0;
        row += pitch;
      }
    }
    std::atomic_signal_fence(std::memory_order_seq_cst);
  }
};

// Columns [i, end) of rows k0 .. k0 + G of `rows` against T tokens: vector pairs into `a` (even vectors)
// and `b` (odd), then a last single vector into `a`; returns where the vectors end (the scalar tail). The
// token loops unroll fully (T <= kWideTokens): a partly unrolled one indexes the accumulators with a
// variable, which puts them in memory (2.4-2.9x slower at four tokens).
template <int64_t T, int64_t G, class Rows, class V>
HWY_INLINE int64_t AccumulateVectors(const float* const* x, const Rows& rows, int64_t k0, int64_t i, int64_t end,
                                     V (&a)[T][G], V (&b)[T][G]) {
  const hn::ScalableTag<float> df;
  const int64_t lanes = static_cast<int64_t>(hn::Lanes(df));
  HWY_UNROLL(4) for (; i + 2 * lanes <= end; i += 2 * lanes) {
    HWY_UNROLL(4) for (int64_t g = 0; g < G; ++g) {
      const auto w0 = rows.Lanes(df, k0 + g, i), w1 = rows.Lanes(df, k0 + g, i + lanes);
      HWY_UNROLL(4) for (int64_t t = 0; t < T; ++t) {
        a[t][g] = hn::MulAdd(hn::LoadU(df, x[t] + i), w0, a[t][g]);
        b[t][g] = hn::MulAdd(hn::LoadU(df, x[t] + i + lanes), w1, b[t][g]);
      }
    }
  }
  if (i + lanes <= end) {
    HWY_UNROLL(4) for (int64_t g = 0; g < G; ++g) {
      const auto w0 = rows.Lanes(df, k0 + g, i);
      HWY_UNROLL(4) for (int64_t t = 0; t < T; ++t) a[t][g] = hn::MulAdd(hn::LoadU(df, x[t] + i), w0, a[t][g]);
    }
    i += lanes;
  }
  return i;
}

// The tile ahead's prefetch parts spread over a tile's row groups (below kPrefetchMinTokens): each row
// group's columns in `ranges` ranges, part `done` of `parts` before each. ranges == 1 and parts == 0: none.
struct SpreadPrefetch {
  const TilePrefetch* next = nullptr;
  int64_t ranges = 1, parts = 0, done = 0;
  void Before() {
    if (parts > 0) next->Part(done++, parts);
  }
};

// out[t][g] = x[t] . row k0 + g of `rows` over n columns, g < G, for T tokens, each with the same
// accumulators and order (even vectors in `a`, odd in `b`), so one token's bits depend neither on T nor
// on G. The columns go in spread.ranges ranges, each but the last ending on a vector pair, so every vector
// goes to the accumulator it has in one range and the bits are those of one range. The scalar tail uses
// explicit fmas rather than whatever -ffp-contract makes of each instantiation.
template <int64_t T, int64_t G, class Rows>
HWY_INLINE void DotRowGroup(const float* const* x, int64_t n, Rows rows, int64_t k0, float* const* out,
                            SpreadPrefetch& spread) {
  const hn::ScalableTag<float> df;
  const int64_t pair = 2 * static_cast<int64_t>(hn::Lanes(df));
  hn::Vec<decltype(df)> a[T][G], b[T][G];
  HWY_UNROLL(4) for (int64_t t = 0; t < T; ++t) {
    HWY_UNROLL(4) for (int64_t g = 0; g < G; ++g) a[t][g] = b[t][g] = hn::Zero(df);
  }
  int64_t i = 0;
  for (int64_t p = 0; p < spread.ranges; ++p) {
    const int64_t end = p + 1 == spread.ranges ? n : n * (p + 1) / spread.ranges / pair * pair;
    spread.Before();
    i = AccumulateVectors<T, G>(x, rows, k0, i, end, a, b);
  }
  for (int64_t t = 0; t < T; ++t)
    for (int64_t g = 0; g < G; ++g) out[t][g] = hn::GetLane(hn::SumOfLanes(df, hn::Add(a[t][g], b[t][g])));
  for (; i < n; ++i)
    for (int64_t t = 0; t < T; ++t)
      for (int64_t g = 0; g < G; ++g) out[t][g] = std::fma(x[t][i], rows.Scalar(k0 + g, i), out[t][g]);
}

// out[t][k0 + g] = x[t] . row k0 + g of `rows`, g < G.
template <int64_t T, int64_t G, class Rows>
HWY_INLINE void DotRowGroupAt(const float* const* x, int64_t n, const Rows& rows, int64_t k0, float* const* out,
                              SpreadPrefetch& spread) {
  float* group_out[T];
  for (int64_t t = 0; t < T; ++t) group_out[t] = out[t] + k0;
  DotRowGroup<T, G>(x, n, rows, k0, group_out, spread);
}

// out[t][k] = x[t] . row k of `rows`, k < kFusedRows, G rows together (see OneRowAtATime).
template <int64_t T, int64_t G, class Rows>
HWY_INLINE void FusedDotRows(const float* const* x, int64_t n, Rows rows, float* const* out,
                             SpreadPrefetch& spread) {
  static_assert(kFusedRows == 4, "the groups below cover a tile of four rows");
  if constexpr (G == 2) {  // two calls: clang refuses to unroll the loop below at two trips (-Wpass-failed)
    DotRowGroupAt<T, G>(x, n, rows, 0, out, spread);
    DotRowGroupAt<T, G>(x, n, rows, 2, out, spread);
  } else {
    HWY_UNROLL(4) for (int64_t k0 = 0; k0 < kFusedRows; k0 += G) DotRowGroupAt<T, G>(x, n, rows, k0, out, spread);
  }
}

// Whether rows [r0, r1) of w hold an FP8 NaN code, which the kernels that decode codes in registers
// (E4m3CodeLanes) do not decode: the caller then takes a decoding path (DecodeE4m3Codes / DecodeE4m3Lanes
// handle NaN) that gives the same bits otherwise. With a memo, from the memo's groups (scanned whole, every
// column, the first time any view reads them); without, by scanning the view's own bytes of those rows.
bool RowsHaveNan(const WeightMatrix& w, int64_t r0, int64_t r1) {
  if (w.dtype != DType::kF8E4M3) return false;
  if (const Fp8NanMemo* memo = w.nan_memo) {
    const int64_t last = memo->GroupOf(w.row_begin + r1 - 1);
    for (int64_t g = memo->GroupOf(w.row_begin + r0); g <= last; ++g) {
      Fp8NanMemo::State state = memo->Get(g);
      if (state == Fp8NanMemo::kUnknown) {
        state = HasE4m3Nan(memo->GroupCodes(g), memo->GroupSize(g)) ? Fp8NanMemo::kHasNan : Fp8NanMemo::kClean;
        memo->Set(g, state);
      }
      if (state == Fp8NanMemo::kHasNan) return true;
    }
    return false;
  }
  for (int64_t r = r0; r < r1; ++r)
    if (HasE4m3Nan(reinterpret_cast<const uint8_t*>(w.RowBytes(r)), w.cols)) return true;
  return false;
}

// Whether the tile of rows [r, r + kFusedRows) holds an FP8 NaN code (RowsHaveNan).
bool TileHasNan(const WeightMatrix& w, int64_t r) { return RowsHaveNan(w, r, r + kFusedRows); }

// Rows read together by a pass of T tokens of a product of n (kWideRows, one, or kFusedRows).
template <int64_t T>
HWY_INLINE int64_t PassRows(int64_t n, const WeightMatrix& w) {
  if (T == kWideTokens) return kWideRows;
  return OneRowAtATime(T, n, w) ? 1 : kFusedRows;
}

// The kFusedRows rows r.. of w (read through `rows`) against tokens [0, n) of x (row t at x + t * w.cols)
// into y[t * w.rows + r + k]: passes of kWideTokens tokens while that many remain (in FP8 products whose
// rows are read together), then of kFusedTokens, then a last odd token alone. `next` is prefetched in
// kSpreadParts or more parts spread over every row group's columns where SpreadsPrefetch, else a part per
// pass.
template <class Rows>
HWY_INLINE void FusedDotPasses(const float* x, int64_t n, const WeightMatrix& w, int64_t r, const Rows& rows,
                               const TilePrefetch& next, float* y) {
  float dots[kWideTokens][kFusedRows];
  float* outs[kWideTokens] = {dots[0], dots[1], dots[2], dots[3]};
  static_assert(kWideTokens == 4, "outs lists kWideTokens rows");
  const int64_t wide = (!std::is_same_v<Rows, Fp8Rows> || OneRowAtATime(kWideTokens, n, w)) ? 0 : n / kWideTokens;
  const int64_t pairs = (n - wide * kWideTokens) / kFusedTokens, odd = n - wide * kWideTokens - pairs * kFusedTokens;
  const int64_t passes = wide + pairs + odd;
  SpreadPrefetch spread{&next};
  if (SpreadsPrefetch(n, w) && next.first != nullptr) {
    const int64_t groups = wide * (kFusedRows / kWideRows) + pairs * (kFusedRows / PassRows<kFusedTokens>(n, w)) +
                           odd * (kFusedRows / PassRows<1>(n, w));
    const int64_t parts =
        n == 1 ? std::max(kSpreadParts, kFusedRows * next.row_lines / kOneTokenPartLines) : kSpreadParts;
    spread.ranges = (parts + groups - 1) / groups;
    spread.parts = groups * spread.ranges;
  }
  const auto pass = [&](auto tokens, int64_t t, int64_t p) {
    constexpr int64_t T = decltype(tokens)::value;
    if (spread.parts == 0) next.Part(p, passes);
    const float* xs[T];
    for (int64_t u = 0; u < T; ++u) xs[u] = x + (t + u) * w.cols;
    if constexpr (T == kWideTokens) {
      FusedDotRows<T, kWideRows>(xs, w.cols, rows, outs, spread);
    } else if (PassRows<T>(n, w) == 1) {
      FusedDotRows<T, 1>(xs, w.cols, rows, outs, spread);
    } else {
      FusedDotRows<T, kFusedRows>(xs, w.cols, rows, outs, spread);
    }
    for (int64_t u = 0; u < T; ++u) std::copy_n(dots[u], kFusedRows, y + (t + u) * w.rows + r);
  };
  int64_t t = 0, p = 0;
  for (; p < wide; ++p, t += kWideTokens) pass(std::integral_constant<int64_t, kWideTokens>(), t, p);
  for (; t + kFusedTokens <= n; ++p, t += kFusedTokens) pass(std::integral_constant<int64_t, kFusedTokens>(), t, p);
  if (t < n) pass(std::integral_constant<int64_t, 1>(), t, p);
}

// The kFusedRows rows r.. of w against the n token rows of x (CanFuse, !TileHasNan(w, r); for FP8, x
// scaled for the tile's row block as above) into y[t * w.rows + r + k], k < kFusedRows, prefetching `next`
// (the tile kPrefetchTiles ahead in the caller's order of tiles) as FusedDotPasses says. The row sources are set
// up once for all of the tile's passes: their row addresses take integer divisions, which per pass of two
// tokens cost about a third of the FP8 kernel's time with its tile in cache.
void FusedDotTokens(const float* x, int64_t n, const WeightMatrix& w, int64_t r, const TilePrefetch& next, float* y) {
  switch (w.dtype) {
    case DType::kF8E4M3: FusedDotPasses(x, n, w, r, Fp8Rows(w, r), next, y); return;
    case DType::kBF16: FusedDotPasses(x, n, w, r, Bf16Rows(w, r), next, y); return;
    default: FusedDotPasses(x, n, w, r, F32Rows(w, r), next, y); return;
  }
}

// FusedDotTokens' FP8 result for one token and one row k of a tile that DecodeE4m3Codes wrote (kFusedRows
// rows of `cols` floats, NaN codes included), against that row's scaled activations x.
float Fp8TileRowDot(const float* x, const float* tile, int64_t cols, int64_t k) {
  float out;
  float* outs[1] = {&out};
  SpreadPrefetch none;
  DotRowGroup<1, 1>(&x, cols, F32Rows(tile, cols), k, outs, none);
  return out;
}

}  // namespace sieve::kernels::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#endif  // include guard
