// SIMD bodies of kernels/matmul.h, compiled once per Highway target (foreach_target) and chosen at
// runtime with HWY_DYNAMIC_DISPATCH. Weights are decoded to fp32 a few rows at a time, right before use,
// and each decoded tile serves every token of the batch. From kMinGemmTokens token rows on, Matmul and
// MatmulTransposed hand over to the decoded-panel GEMM of kernels/gemm_matmul.h instead.
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/cpu/matmul.cpp"
#include <hwy/foreach_target.h>  // must come before highway.h
#include <hwy/highway.h>

#include <algorithm>
#include <cstring>
#include <limits>
#include <vector>

#include "kernels/gemm_matmul.h"
#include "kernels/cpu/fused_dot-inl.h"
#include "kernels/matmul.h"

HWY_BEFORE_NAMESPACE();
namespace sieve::kernels::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// e4m3 "fn" -> fp32 without a table: placing the 7 magnitude bits at bit 20 makes a float32 whose
// value is e4m3 * 2^-120 for normal and subnormal codes alike (4-bit exponent lands in the float's
// exponent field, 3-bit mantissa at its top), so one exact multiply by 2^120 restores it; the block
// scale is then applied with one rounding, as the reference's `e4m3.float() * scale`.
// One vector of DecodeE4m3: the codes src[0, lanes) times `scale`, the NaN code (0x7f / 0xff) as NaN.
template <class D>
HWY_INLINE hn::Vec<D> DecodeE4m3Lanes(D df, const uint8_t* src, hn::Vec<D> scale) {
  const hn::RebindToUnsigned<D> du;
  const hn::Rebind<uint8_t, D> d8;
  const auto bits = hn::PromoteTo(du, hn::LoadU(d8, src));
  const auto magnitude = hn::And(bits, hn::Set(du, 0x7Fu));
  const auto sign = hn::ShiftLeft<24>(hn::And(bits, hn::Set(du, 0x80u)));
  const auto f = hn::BitCast(df, hn::Or(sign, hn::ShiftLeft<20>(magnitude)));
  const auto v = hn::Mul(hn::Mul(f, hn::Set(df, 0x1p120f)), scale);
  const auto is_nan = hn::RebindMask(df, hn::Eq(magnitude, hn::Set(du, 0x7Fu)));  // 0x7f/0xff
  return hn::IfThenElse(is_nan, hn::Set(df, std::numeric_limits<float>::quiet_NaN()), v);
}

void DecodeE4m3(const uint8_t* src, float scale, int64_t n, float* out) {
  const hn::ScalableTag<float> df;
  const int64_t lanes = static_cast<int64_t>(hn::Lanes(df));
  const auto vscale = hn::Set(df, scale);
  int64_t i = 0;
  for (; i + lanes <= n; i += lanes) hn::StoreU(DecodeE4m3Lanes(df, src + i, vscale), df, out + i);
  for (; i < n; ++i) out[i] = E4m3ToFloat(src[i]) * scale;
}

// e4m3 codes as code * 2^-120 (exact; the block-scaled GEMV's tiles), NaN codes as NaN.
void DecodeE4m3Codes(const uint8_t* src, int64_t n, float* out) { DecodeE4m3(src, 0x1p-120f, n, out); }

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

// How the full tiles of a product are computed: `fused`: CanFuse, from the weight bytes decoded in
// registers, up to kWideTokens tokens per pass (each weight vector decoded once per pass instead of stored
// to a tile and reloaded per token); `exponents`: a fused FP8 product's k of each token (the FP8 numerics of
// kernels/cpu/fused_dot-inl.h), null for the others.
struct TilePlan {
  bool fused = false;
  const int* exponents = nullptr;
};

// k of the FP8 numerics for a token whose activations reach max_abs, against block scales up to
// max_scale: 0 unless max_abs * max_scale * 2^120 could pass 2^126, then the smallest k that keeps it
// below. A token with a non-finite activation keeps 0 (its outputs are NaN or infinite either way).
int Fp8ActivationExponent(float max_abs, float max_scale) {
  const double reach = static_cast<double>(max_abs) * max_scale;
  if (!std::isfinite(reach) || reach == 0.0) return 0;
  int e;
  std::frexp(reach, &e);  // reach < 2^e, so x' < 2^(e + 120 - k) <= 2^126 from k = e - 6 on
  return std::max(0, e - 6);
}

float MaxAbs(const float* x, int64_t n) {
  const hn::ScalableTag<float> df;
  const int64_t lanes = static_cast<int64_t>(hn::Lanes(df));
  auto v = hn::Zero(df);
  int64_t i = 0;
  for (; i + lanes <= n; i += lanes) v = hn::Max(v, hn::Abs(hn::LoadU(df, x + i)));
  float m = hn::GetLane(hn::MaxOfLanes(df, v));
  for (; i < n; ++i) m = std::max(m, std::fabs(x[i]));
  return m;
}

// The FP8 kernels' activations for the rows of row block `row_block` of w: out[t * w.cols + c] = x[t *
// w.cols + c] * s(row_block, c) * 2^(120 - k_t) for the n tokens, one rounding each (the powers of two
// are exact: s * 2^120 is finite (CanFuse), and k_t keeps the product finite).
void ScaleFp8Activations(const WeightMatrix& w, int64_t row_block, const float* x, int64_t n, const int* exponents,
                         float* out) {
  const hn::ScalableTag<float> df;
  const int64_t lanes = static_cast<int64_t>(hn::Lanes(df));
  const float* scales = w.scale_inv + row_block * w.scale_cols;
  for (int64_t t = 0; t < n; ++t)
    for (int64_t c = 0; c < w.cols;) {  // one segment per column block: each has its own scale
      const int64_t end = std::min(w.cols, ((w.col_begin + c) / w.block_cols + 1) * w.block_cols - w.col_begin);
      const float unbiased = w.ColumnScale(scales, c) * kE4m3Unbias;
      const float factor = exponents[t] == 0 ? unbiased : std::ldexp(unbiased, -exponents[t]);
      const float* src = x + t * w.cols;
      float* dst = out + t * w.cols;
      for (; c + lanes <= end; c += lanes) hn::StoreU(hn::Mul(hn::LoadU(df, src + c), hn::Set(df, factor)), df, dst + c);
      for (; c < end; ++c) dst[c] = src[c] * factor;
    }
}

// One thread's scaled activations (ScaleFp8Activations) of the row block it last read, kept across its
// tiles of one MatmulMany call: a row block has 32 tiles, so the scaling costs 1/128 of the FMAs.
struct Fp8ScaledActivations {
  int64_t product = -1, row_block = -1;
  std::vector<float> x;
  const float* For(const MatmulProduct& p, const TilePlan& plan, int64_t j, int64_t block) {
    if (product != j || row_block != block) {
      x.resize(static_cast<size_t>(p.n * p.w->cols));
      ScaleFp8Activations(*p.w, block, p.x, p.n, plan.exponents, x.data());
      product = j;
      row_block = block;
    }
    return x.data();
  }
};

// Token t's outputs of a fused FP8 tile times 2^k_t, where k_t is not 0.
void UndoFp8Exponents(const TilePlan& plan, int64_t n, int64_t rows, int64_t r, float* y) {
  for (int64_t t = 0; t < n; ++t)
    if (plan.exponents[t] != 0)
      for (int64_t k = 0; k < kTileRows; ++k) y[t * rows + r + k] = std::ldexp(y[t * rows + r + k], plan.exponents[t]);
}

// A full FP8 tile of a fused product through decoded rows: one with a NaN code (which E4m3CodeLanes does not
// decode), or one whose rows lie in two row blocks (a view starting off a multiple of kTileRows within a
// block), each row against its own block's scaled activations. The same bits as the fused kernel.
void Fp8TileByRows(const MatmulProduct& p, const TilePlan& plan, int64_t j, int64_t r, Fp8ScaledActivations& scaled,
                   Fp8ScaledActivations& other, float* tile) {
  const WeightMatrix& w = *p.w;
  for (int64_t k = 0; k < kTileRows; ++k)
    DecodeE4m3Codes(reinterpret_cast<const uint8_t*>(w.RowBytes(r + k)), w.cols, tile + k * w.cols);
  for (int64_t k = 0; k < kTileRows; ++k) {
    const int64_t block = (w.row_begin + r + k) / w.block_rows;
    const float* x = block == scaled.row_block ? scaled.For(p, plan, j, block) : other.For(p, plan, j, block);
    for (int64_t t = 0; t < p.n; ++t) p.y[t * w.rows + r + k] = Fp8TileRowDot(x + t * w.cols, tile, w.cols, k);
  }
  UndoFp8Exponents(plan, p.n, w.rows, r, p.y);
}

// Output rows [r, r + kTileRows) of product j, p (fewer in a matrix's last tile) for all of p's tokens.
// `tile` has room for kTileRows rows of p.w->cols floats.
// Dot4Impl over DotImpl alone: small-preset prefill of 128 tokens, 1 thread, 1.65 -> 1.39 s CPU (forward_bench).
void ProductTile(const MatmulProduct& p, const TilePlan& plan, int64_t j, int64_t r, const TilePrefetch& next,
                 Fp8ScaledActivations& scaled, Fp8ScaledActivations& other, float* tile) {
  const WeightMatrix& w = *p.w;
  const float* x = p.x;
  const int64_t n = p.n;
  float* y = p.y;
  const int64_t tile_rows = std::min(kTileRows, w.rows - r);
  float dots[2][kTileRows];  // the tiled paths below: one token, or Dot4x2Impl's two
  if (tile_rows == kTileRows && plan.fused && plan.exponents != nullptr) {
    const int64_t block = (w.row_begin + r) / w.block_rows;
    if (TileHasNan(w, r) || (w.row_begin + r + kTileRows - 1) / w.block_rows != block) {
      Fp8TileByRows(p, plan, j, r, scaled, other, tile);
      return;
    }
    FusedDotTokens(scaled.For(p, plan, j, block), n, w, r, next, y);
    UndoFp8Exponents(plan, n, w.rows, r, y);
    return;
  }
  if (tile_rows == kTileRows && plan.fused) {
    FusedDotTokens(x, n, w, r, next, y);
    return;
  }
  for (int64_t k = 0; k < tile_rows; ++k) DecodeRange(w, r + k, 0, w.cols, tile + k * w.cols);
  if (tile_rows == kTileRows) {
    int64_t t = 0;
    for (; t + 2 <= n; t += 2) {
      Dot4x2Impl(x + t * w.cols, x + (t + 1) * w.cols, tile, w.cols, dots[0], dots[1]);
      std::copy_n(dots[0], kTileRows, y + t * w.rows + r);
      std::copy_n(dots[1], kTileRows, y + (t + 1) * w.rows + r);
    }
    if (t < n) {
      Dot4Impl(x + t * w.cols, tile, w.cols, dots[0]);
      std::copy_n(dots[0], kTileRows, y + t * w.rows + r);
    }
    return;
  }
  for (int64_t t = 0; t < n; ++t)  // the last, partial tile
    for (int64_t k = 0; k < tile_rows; ++k) y[t * w.rows + r + k] = DotImpl(x + t * w.cols, tile + k * w.cols, w.cols);
}

// The call's tiles are numbered product after product, each product's from its row 0 in steps of
// kTileRows, and a ParallelFor hands out whole tiles, so whether a row goes through FusedDotTokens,
// Fp8TileByRows, Dot4Impl or DotImpl (a matrix's last, partial tile) depends neither on the thread count
// nor on the other products. Products must have 0 < n < kMinGemmTokens.
void MatmulManyImpl(const MatmulProduct* products, int64_t count, ThreadPool& pool) {
  // Reused across calls (no allocation in the hot path); the workers read them through these references,
  // since naming a thread_local inside the lambda would give each worker its own, empty copy.
  thread_local std::vector<int64_t> first_tile_storage;  // [count + 1]: product j has tiles [first[j], first[j + 1])
  thread_local std::vector<TilePlan> plan_storage;       // [count]
  thread_local std::vector<int> exponent_storage;        // the fused FP8 products' k per token, product after product
  thread_local std::vector<float> max_abs_storage;       // max |x| per token of the last fused FP8 product's activations
  std::vector<int64_t>& first = first_tile_storage;
  std::vector<TilePlan>& plans = plan_storage;
  std::vector<int>& exponents = exponent_storage;
  std::vector<float>& max_abs = max_abs_storage;
  first.assign(1, 0);
  plans.assign(count, TilePlan{});
  exponents.clear();
  int64_t max_cols = 0;
  const MatmulProduct* last_fp8 = nullptr;
  for (int64_t j = 0; j < count; ++j) {
    const MatmulProduct& p = products[j];
    first.push_back(first.back() + (p.w->rows + kTileRows - 1) / kTileRows);
    max_cols = std::max(max_cols, p.w->cols);
    const bool fp8 = p.w->dtype == DType::kF8E4M3;
    const float max_scale = fp8 ? MaxBlockScale(*p.w) : 0.0f;
    plans[j].fused = CanFuse(*p.w, max_scale);
    if (!fp8 || !plans[j].fused) continue;
    // A MoE layer's experts all read the same activations: their max |x| is scanned once.
    if (last_fp8 == nullptr || last_fp8->x != p.x || last_fp8->n != p.n || last_fp8->w->cols != p.w->cols) {
      max_abs.resize(static_cast<size_t>(p.n));
      for (int64_t t = 0; t < p.n; ++t) max_abs[t] = MaxAbs(p.x + t * p.w->cols, p.w->cols);
      last_fp8 = &p;
    }
    for (int64_t t = 0; t < p.n; ++t) exponents.push_back(Fp8ActivationExponent(max_abs[t], max_scale));
  }
  for (int64_t j = 0, at = 0; j < count; ++j)  // pointers only now: `exponents` no longer grows
    if (products[j].w->dtype == DType::kF8E4M3 && plans[j].fused) {
      plans[j].exponents = exponents.data() + at;
      at += products[j].n;
    }
  pool.ParallelFor(first.back(), [&](int64_t i0, int64_t i1) {
    thread_local std::vector<float> tile;  // reused across calls and steps: no allocation in the hot path
    thread_local Fp8ScaledActivations scaled, other;
    tile.resize(static_cast<size_t>(kTileRows * max_cols));
    scaled.product = other.product = -1;  // product numbers are this call's
    int64_t j = std::upper_bound(first.begin(), first.end(), i0) - first.begin() - 1;  // the product of tile i0
    int64_t ahead = j;                                                                  // ... of tile i + kPrefetchTiles
    for (int64_t i = i0; i < i1; ++i) {
      while (i >= first[j + 1]) ++j;
      const int64_t target = i + kPrefetchTiles;
      while (ahead < count && target >= first[ahead + 1]) ++ahead;
      const TilePrefetch next = ahead < count && plans[ahead].fused
                                    ? TilePrefetch::For(*products[ahead].w, (target - first[ahead]) * kTileRows, products[ahead].n)
                                    : TilePrefetch{};
      ProductTile(products[j], plans[j], j, (i - first[j]) * kTileRows, next, scaled, other, tile.data());
    }
  });
}

// Columns [c0, c1) of the transposed product as DecodeRange + AxpyImpl compute them: each row decoded
// into `row` (c1 - c0 floats), then added to every token's output.
void TransposedByRows(const WeightMatrix& w, const float* x, int64_t n, int64_t c0, int64_t c1, float* y, float* row) {
  for (int64_t t = 0; t < n; ++t) std::fill(y + t * w.cols + c0, y + t * w.cols + c1, 0.0f);
  for (int64_t r = 0; r < w.rows; ++r) {  // fixed order over r: same sums for any split of columns
    DecodeRange(w, r, c0, c1, row);
    for (int64_t t = 0; t < n; ++t) AxpyImpl(x[t * w.rows + r], row, y + t * w.cols + c0, c1 - c0);
  }
}

// Output vectors accumulated in registers at once, per token of a pass: with kTransposedTokens tokens,
// four (64 columns on AVX-512: 16 accumulators); a call whose products all have fewer tokens takes one
// token per pass and 16 vectors (256 columns on AVX-512: each row's part four consecutive cache lines of
// FP8 codes). Groups of 4 vectors read one cache line per row 512 bytes apart, a stream the prefetchers
// followed poorly: the absorbed kv_b products ran at ~10 GB/s in batch-1 decode (5.9% of its samples).
constexpr int64_t kTransposedVectors = 4;
constexpr int64_t kTransposedVectorsOneToken = 16;

// Weight vectors of the transposed product read in place, with the bits DecodeRange writes. Segment(r)
// prepares rows from r on and returns where they end (the end of r's row block for FP8); then
// Lanes(df, r, v) = W[r, c + v * lanes .. + lanes) for the group of vectors starting at view column c.
// kCodesOnly: rows without NaN codes whose block scales times 2^120 are finite, decoded as the fused GEMV
// does (E4m3CodeLanes: code * 2^-120, exact) times scale * 2^120, one rounding of code * scale as
// DecodeE4m3Lanes makes it, in 4 operations instead of 8.
template <bool kCodesOnly>
struct TransposedFp8 {
  const WeightMatrix& w;
  const uint8_t* col;                            // column c of row 0
  int64_t vectors;                               // of the group
  int64_t block[kTransposedVectorsOneToken];     // column block of each vector
  float scale[kTransposedVectorsOneToken];       // each vector's block scale in the current row block (times 2^120: kCodesOnly)
  int64_t Segment(int64_t r) {
    const int64_t row_block = (w.row_begin + r) / w.block_rows;
    for (int64_t v = 0; v < vectors; ++v)
      scale[v] = w.scale_inv[row_block * w.scale_cols + block[v]] * (kCodesOnly ? kE4m3Unbias : 1.0f);
    return std::min(w.rows, (row_block + 1) * w.block_rows - w.row_begin);
  }
  template <class D>
  HWY_INLINE hn::Vec<D> Lanes(D df, int64_t r, int64_t v) const {
    const uint8_t* codes = col + r * w.pitch() + v * hn::Lanes(df);
    if constexpr (kCodesOnly) return hn::Mul(E4m3CodeLanes(df, codes), hn::Set(df, scale[v]));
    return DecodeE4m3Lanes(df, codes, hn::Set(df, scale[v]));
  }
};
struct TransposedBf16 {
  const uint16_t* col;
  int64_t pitch, rows;
  int64_t Segment(int64_t) const { return rows; }
  template <class D>
  HWY_INLINE hn::Vec<D> Lanes(D df, int64_t r, int64_t v) const { return Bf16Lanes(df, col + r * pitch + v * hn::Lanes(df)); }
};
struct TransposedF32 {
  const float* col;
  int64_t pitch, rows;
  int64_t Segment(int64_t) const { return rows; }
  template <class D>
  HWY_INLINE hn::Vec<D> Lanes(D df, int64_t r, int64_t v) const { return hn::LoadU(df, col + r * pitch + v * hn::Lanes(df)); }
};

// Tokens per pass of TransposedInRegisters: each weight vector decoded once feeds this many tokens
// (4 x kTransposedVectors = 16 accumulators). Batch-16 decode absorbs kv_b into 16 tokens' queries per
// head and layer; one token per pass decoded every weight 16 times (4.8% of a batch-16 step's samples).
constexpr int64_t kTransposedTokens = 4;

// Output vectors [first, first + kVectors) of the group for tokens [t0, t0 + T), each accumulated in a
// register over all rows in order with AxpyImpl's MulAdd(x[t, r], W[r, :], acc) from zero: the same chain
// of roundings as TransposedByRows, whatever T, without its store and reload of the decoded row and of y,
// and its two calls per row. y points at the group's first column of token 0.
template <int64_t T, int64_t kVectors, class Weights>
HWY_INLINE void TransposedTokens(Weights& weights, int64_t first, const float* x, int64_t t0, int64_t rows, float* y,
                                 int64_t y_pitch) {
  const hn::ScalableTag<float> df;
  const int64_t lanes = static_cast<int64_t>(hn::Lanes(df));
  hn::Vec<decltype(df)> acc[T][kVectors];
  for (int64_t t = 0; t < T; ++t)
    for (int64_t v = 0; v < kVectors; ++v) acc[t][v] = hn::Zero(df);
  for (int64_t r = 0; r < rows;) {
    for (const int64_t end = weights.Segment(r); r < end; ++r) {
      HWY_UNROLL(16) for (int64_t v = 0; v < kVectors; ++v) {  // whole: the accumulators stay in registers
        const auto w = weights.Lanes(df, r, first + v);
        HWY_UNROLL(4) for (int64_t t = 0; t < T; ++t) acc[t][v] = hn::MulAdd(hn::Set(df, x[(t0 + t) * rows + r]), w, acc[t][v]);
      }
    }
  }
  for (int64_t t = 0; t < T; ++t)
    for (int64_t v = 0; v < kVectors; ++v) hn::StoreU(acc[t][v], df, y + (t0 + t) * y_pitch + (first + v) * lanes);
}

// TransposedTokens for every token, kTransposedTokens at a time.
template <int64_t kVectors, class Weights>
HWY_INLINE void TransposedInRegisters(Weights weights, int64_t first, const float* x, int64_t n, int64_t rows, float* y,
                                      int64_t y_pitch) {
  int64_t t = 0;
  for (; t + kTransposedTokens <= n; t += kTransposedTokens)
    TransposedTokens<kTransposedTokens, kVectors>(weights, first, x, t, rows, y, y_pitch);
  for (; t < n; ++t) TransposedTokens<1, kVectors>(weights, first, x, t, rows, y, y_pitch);
}

// Columns [c, c + vectors * lanes) (vectors <= kTransposedVectors, or kTransposedVectorsOneToken when
// n < kTransposedTokens) of the transposed product in registers; false,
// with nothing written, for an F16 matrix or an FP8 vector that straddles two column blocks (it would need
// two scales), which TransposedByRows handles.
template <class D>
bool TransposedGroup(D df, const WeightMatrix& w, const float* x, int64_t n, int64_t c, int64_t vectors, float* y) {
  const int64_t lanes = static_cast<int64_t>(hn::Lanes(df));
  const auto run = [&](const auto& weights) {
    if (vectors == kTransposedVectorsOneToken) {  // only in one-token groups
      auto own = weights;  // Segment updates the scales
      for (int64_t t = 0; t < n; ++t) TransposedTokens<1, kTransposedVectorsOneToken>(own, 0, x, t, w.rows, y + c, w.cols);
    } else if (vectors == kTransposedVectors) {
      TransposedInRegisters<kTransposedVectors>(weights, 0, x, n, w.rows, y + c, w.cols);
    } else {
      int64_t v = 0;
      for (; v + kTransposedVectors <= vectors; v += kTransposedVectors)
        TransposedInRegisters<kTransposedVectors>(weights, v, x, n, w.rows, y + c, w.cols);
      for (; v < vectors; ++v) TransposedInRegisters<1>(weights, v, x, n, w.rows, y + c, w.cols);
    }
    return true;
  };
  switch (w.dtype) {
    case DType::kF8E4M3: {
      TransposedFp8<true> codes{w, reinterpret_cast<const uint8_t*>(w.RowBytes(0)) + c, vectors, {}, {}};
      for (int64_t v = 0; v < vectors; ++v) {
        const int64_t first = w.col_begin + c + v * lanes;
        codes.block[v] = first / w.block_cols;
        if ((first + lanes - 1) / w.block_cols != codes.block[v]) return false;
      }
      bool codes_only = !RowsHaveNan(w, 0, w.rows);
      for (int64_t b = w.row_begin / w.block_rows; codes_only && b * w.block_rows < w.row_begin + w.rows; ++b)
        for (int64_t v = 0; v < vectors; ++v)
          codes_only = codes_only && std::isfinite(w.scale_inv[b * w.scale_cols + codes.block[v]] * kE4m3Unbias);
      if (codes_only) return run(codes);
      TransposedFp8<false> decoded{w, codes.col, vectors, {}, {}};
      std::copy_n(codes.block, vectors, decoded.block);
      return run(decoded);
    }
    case DType::kBF16: return run(TransposedBf16{reinterpret_cast<const uint16_t*>(w.RowBytes(0)) + c, w.pitch(), w.rows});
    case DType::kF32: return run(TransposedF32{reinterpret_cast<const float*>(w.RowBytes(0)) + c, w.pitch(), w.rows});
    default: return false;
  }
}

// Each product's columns are cut into groups of kTransposedVectors vectors (kTransposedVectorsOneToken
// when every product has fewer than kTransposedTokens tokens) from column 0 (the last group ends with the
// columns past the last full vector, AxpyImpl's scalar tail), numbered product after product, and a
// ParallelFor hands out whole groups; every column sums its rows in order. So the bits depend neither on
// the thread count, nor on the other products, nor on the group width. Decode multiplies q by 16 per-head slices of kv_b_proj
// per layer; decoding each row into a buffer for a 64-column AXPY was ~10% of a decode step's samples
// (docs/performance.md, round 3). Products must have 0 < n < kMinGemmTokens.
void MatmulTransposedManyImpl(const MatmulProduct* products, int64_t count, ThreadPool& pool) {
  const hn::ScalableTag<float> df;
  const int64_t lanes = static_cast<int64_t>(hn::Lanes(df));
  bool one_token = true;
  for (int64_t j = 0; j < count; ++j) one_token = one_token && products[j].n < kTransposedTokens;
  const int64_t group_vectors = one_token ? kTransposedVectorsOneToken : kTransposedVectors;
  const int64_t group_cols = group_vectors * lanes;
  thread_local std::vector<int64_t> first_group_storage;  // as in MatmulManyImpl: product j has groups [first[j], first[j + 1])
  std::vector<int64_t>& first = first_group_storage;
  first.assign(1, 0);
  int64_t max_cols = 0;
  for (int64_t j = 0; j < count; ++j) {
    first.push_back(first.back() + (products[j].w->cols + group_cols - 1) / group_cols);
    max_cols = std::max(max_cols, products[j].w->cols);
  }
  pool.ParallelFor(first.back(), [&](int64_t g0, int64_t g1) {
    thread_local std::vector<float> row;  // TransposedByRows' decoded row, reused: no allocation in the hot path
    row.resize(static_cast<size_t>(std::min(max_cols, group_cols)));
    int64_t j = std::upper_bound(first.begin(), first.end(), g0) - first.begin() - 1;
    for (int64_t g = g0; g < g1; ++g) {
      while (g >= first[j + 1]) ++j;
      const MatmulProduct& p = products[j];
      const WeightMatrix& w = *p.w;
      const int64_t c = (g - first[j]) * group_cols, end = std::min(w.cols, c + group_cols);
      const int64_t vectors = (end - c) / lanes, full = c + vectors * lanes;
      if (vectors > 0 && !TransposedGroup(df, w, p.x, p.n, c, vectors, p.y))
        TransposedByRows(w, p.x, p.n, c, full, p.y, row.data());
      if (full < end) TransposedByRows(w, p.x, p.n, full, end, p.y, row.data());
    }
  });
}

void DequantizeRowImpl(const WeightMatrix& w, int64_t r, float* out) { DecodeRange(w, r, 0, w.cols, out); }

}  // namespace sieve::kernels::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace sieve::kernels {
HWY_EXPORT(MatmulManyImpl);
HWY_EXPORT(MatmulTransposedManyImpl);
HWY_EXPORT(DequantizeRowImpl);
HWY_EXPORT(DotImpl);
HWY_EXPORT(AxpyImpl);

void Matmul(const WeightMatrix& w, const float* x, int64_t n, float* y, ThreadPool& pool) {
  const MatmulProduct product{&w, x, n, y};
  MatmulMany({&product, 1}, pool);
}
void MatmulMany(std::span<const MatmulProduct> products, ThreadPool& pool) {
  thread_local std::vector<MatmulProduct> gemm, gemv;  // the GEMM- and GEMV-sized products, reused across calls
  gemm.clear();
  gemv.clear();
  for (const MatmulProduct& p : products) {
    if (p.n >= kMinGemmTokens) {
      gemm.push_back(p);
    } else if (p.n > 0) {
      gemv.push_back(p);
    }
  }
  if (!gemm.empty()) GemmMatmulMany(gemm, pool);
  if (!gemv.empty()) HWY_DYNAMIC_DISPATCH(MatmulManyImpl)(gemv.data(), static_cast<int64_t>(gemv.size()), pool);
}
void MatmulTransposed(const WeightMatrix& w, const float* x, int64_t n, float* y, ThreadPool& pool) {
  const MatmulProduct product{&w, x, n, y};
  MatmulTransposedMany({&product, 1}, pool);
}
void MatmulTransposedMany(std::span<const MatmulProduct> products, ThreadPool& pool) {
  thread_local std::vector<MatmulProduct> gemv;  // the products below kMinGemmTokens, reused across calls
  gemv.clear();
  for (const MatmulProduct& p : products) {
    if (p.n >= kMinGemmTokens) {
      GemmMatmulTransposed(*p.w, p.x, p.n, p.y, pool);
    } else if (p.n > 0) {
      gemv.push_back(p);
    }
  }
  if (!gemv.empty()) HWY_DYNAMIC_DISPATCH(MatmulTransposedManyImpl)(gemv.data(), static_cast<int64_t>(gemv.size()), pool);
}
void DequantizeRow(const WeightMatrix& w, int64_t r, float* out) { HWY_DYNAMIC_DISPATCH(DequantizeRowImpl)(w, r, out); }
float Dot(const float* a, const float* b, int64_t n) { return HWY_DYNAMIC_DISPATCH(DotImpl)(a, b, n); }
void Axpy(float alpha, const float* x, float* y, int64_t n) { HWY_DYNAMIC_DISPATCH(AxpyImpl)(alpha, x, y, n); }
}  // namespace sieve::kernels
#endif
