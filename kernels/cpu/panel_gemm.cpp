// SIMD body of kernels/panel_gemm.h, compiled once per Highway target (foreach_target) and chosen at
// runtime with HWY_DYNAMIC_DISPATCH.
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/cpu/panel_gemm.cpp"
#include <hwy/foreach_target.h>  // must come before highway.h
#include <hwy/highway.h>

#include <algorithm>

#include "kernels/panel_gemm.h"

HWY_BEFORE_NAMESPACE();
namespace sieve::kernels::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

constexpr int64_t kMaxLanes = HWY_MAX_BYTES / sizeof(float);
// Rows of a per register tile: with two vectors of B per k, 2 x kTileRows accumulators plus the two B
// vectors and a broadcast must fit the register file (32 vectors on AVX-512, 16 on AVX2 and below).
constexpr int kTileRows = kMaxLanes >= 16 ? 8 : 4;

// c rows [0, R) x group columns [0, n_valid) (+)= a [R, kc] . b [kc, 2 vectors] (row strides lda, ldb).
// Each accumulator is one output's FMA chain over kk in order; a is read in place (one pointer per row,
// broadcast one float at a time) and B's two vectors per kk feed all R rows.
template <int R, class D>
HWY_INLINE void Tile(D d, int64_t kc, const float* HWY_RESTRICT a, int64_t lda, const float* HWY_RESTRICT b,
                     int64_t ldb, float* c, int64_t ldc, int64_t n_valid, bool accumulate) {
  const int64_t lanes = static_cast<int64_t>(hn::Lanes(d));
  hn::Vec<D> lo[R], hi[R];
  const float* rows[R];
  HWY_UNROLL(8) for (int i = 0; i < R; ++i) {
    lo[i] = hi[i] = hn::Zero(d);
    rows[i] = a + i * lda;
  }
  for (int64_t kk = 0; kk < kc; ++kk, b += ldb) {
    const auto b0 = hn::LoadU(d, b), b1 = hn::LoadU(d, b + lanes);
    HWY_UNROLL(8) for (int i = 0; i < R; ++i) {
      const auto ai = hn::Set(d, rows[i][kk]);
      lo[i] = hn::MulAdd(ai, b0, lo[i]);
      hi[i] = hn::MulAdd(ai, b1, hi[i]);
    }
  }
  if (n_valid == 2 * lanes) {
    HWY_UNROLL(8) for (int i = 0; i < R; ++i) {
      float* ci = c + i * ldc;
      if (accumulate) {
        lo[i] = hn::Add(hn::LoadU(d, ci), lo[i]);
        hi[i] = hn::Add(hn::LoadU(d, ci + lanes), hi[i]);
      }
      hn::StoreU(lo[i], d, ci);
      hn::StoreU(hi[i], d, ci + lanes);
    }
    return;
  }
  // The last group of a matrix whose columns end inside it: through a buffer, since a full-width store (or
  // a blended one, a load and a store on some targets) would touch columns another thread may be writing.
  HWY_ALIGN float buffer[2 * kMaxLanes];
  for (int i = 0; i < R; ++i) {
    float* ci = c + i * ldc;
    hn::Store(lo[i], d, buffer);
    hn::Store(hi[i], d, buffer + lanes);
    for (int64_t j = 0; j < n_valid; ++j) ci[j] = accumulate ? ci[j] + buffer[j] : buffer[j];
  }
}

// Tile for the last r < kTileRows rows of a.
template <class D>
void RemainderTile(D d, int r, int64_t kc, const float* a, int64_t lda, const float* b, int64_t ldb, float* c,
                   int64_t ldc, int64_t n_valid, bool accumulate) {
  switch (r) {
    case 1: return Tile<1>(d, kc, a, lda, b, ldb, c, ldc, n_valid, accumulate);
    case 2: return Tile<2>(d, kc, a, lda, b, ldb, c, ldc, n_valid, accumulate);
    case 3: return Tile<3>(d, kc, a, lda, b, ldb, c, ldc, n_valid, accumulate);
    case 4: return Tile<4>(d, kc, a, lda, b, ldb, c, ldc, n_valid, accumulate);
    case 5: return Tile<5>(d, kc, a, lda, b, ldb, c, ldc, n_valid, accumulate);
    case 6: return Tile<6>(d, kc, a, lda, b, ldb, c, ldc, n_valid, accumulate);
    default: return Tile<7>(d, kc, a, lda, b, ldb, c, ldc, n_valid, accumulate);
  }
}

int64_t GroupColumnsImpl() { return 2 * static_cast<int64_t>(hn::Lanes(hn::ScalableTag<float>())); }

// Four rows at a time, so that the transposition runs as 4 x 4 blocks in 128-bit vectors (two interleave
// stages) instead of one scalar store per element, 128 bytes apart: the scalar version took ~2.5 cycles
// per element, a quarter of a 256-token item's GEMM time on a 128-row panel.
void PackPanelImpl(const float* w, int64_t ldw, int64_t rows, int64_t k, float* packed) {
  const int64_t group = GroupColumnsImpl(), padded = (rows + group - 1) / group * group;
  for (int64_t r = 0; r < padded; r += 4) {
    int64_t c = 0;
#if HWY_TARGET != HWY_SCALAR  // the scalar target has no 4-lane vectors (and groups of 2 columns)
    float* out = packed + (r / group) * k * group + r % group;
    const hn::FixedTag<float, 4> d4;
    const hn::Repartition<uint64_t, decltype(d4)> d64;
    const auto row_or_zero = [&](int64_t row, int64_t col) {
      return row < rows ? hn::LoadU(d4, w + row * ldw + col) : hn::Zero(d4);
    };
    for (; group % 4 == 0 && c + 4 <= k; c += 4) {
      // rows a, b, c, d -> columns (a_i b_i c_i d_i): interleave pairs of rows, then pairs of 64-bit halves.
      const auto ra = row_or_zero(r, c), rb = row_or_zero(r + 1, c);
      const auto rc = row_or_zero(r + 2, c), rd = row_or_zero(r + 3, c);
      const auto ab_lo = hn::BitCast(d64, hn::InterleaveLower(d4, ra, rb));
      const auto cd_lo = hn::BitCast(d64, hn::InterleaveLower(d4, rc, rd));
      const auto ab_hi = hn::BitCast(d64, hn::InterleaveUpper(d4, ra, rb));
      const auto cd_hi = hn::BitCast(d64, hn::InterleaveUpper(d4, rc, rd));
      hn::StoreU(hn::BitCast(d4, hn::InterleaveLower(d64, ab_lo, cd_lo)), d4, out + c * group);
      hn::StoreU(hn::BitCast(d4, hn::InterleaveUpper(d64, ab_lo, cd_lo)), d4, out + (c + 1) * group);
      hn::StoreU(hn::BitCast(d4, hn::InterleaveLower(d64, ab_hi, cd_hi)), d4, out + (c + 2) * group);
      hn::StoreU(hn::BitCast(d4, hn::InterleaveUpper(d64, ab_hi, cd_hi)), d4, out + (c + 3) * group);
    }
#endif
    for (; c < k; ++c)  // the columns past a multiple of 4, or every column of a group narrower than 4
      for (int64_t j = 0; j < 4 && r + j < padded; ++j) {
        const int64_t row = r + j;
        packed[(row / group) * k * group + c * group + row % group] = row < rows ? w[row * ldw + c] : 0.0f;
      }
  }
}

void PanelGemmImpl(int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* b, int64_t ldb,
                   int64_t group_stride, float* c, int64_t ldc) {
  const hn::ScalableTag<float> d;
  const int64_t group = GroupColumnsImpl();
  // Blocks of k outermost, so each output's chain runs over k in order whatever m and n are; within a
  // block, one group of B at a time against every row tile of a.
  for (int64_t k0 = 0; k0 < k; k0 += kPanelGemmDepth) {
    const int64_t kc = std::min(kPanelGemmDepth, k - k0);
    const bool accumulate = k0 > 0;
    for (int64_t j0 = 0; j0 < n; j0 += group) {
      const float* bg = b + (j0 / group) * group_stride + k0 * ldb;
      const int64_t n_valid = std::min(group, n - j0);
      int64_t i = 0;
      for (; i + kTileRows <= m; i += kTileRows)
        Tile<kTileRows>(d, kc, a + i * lda + k0, lda, bg, ldb, c + i * ldc + j0, ldc, n_valid, accumulate);
      if (i < m)
        RemainderTile(d, static_cast<int>(m - i), kc, a + i * lda + k0, lda, bg, ldb, c + i * ldc + j0, ldc, n_valid,
                      accumulate);
    }
  }
}

}  // namespace sieve::kernels::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace sieve::kernels {
HWY_EXPORT(GroupColumnsImpl);
HWY_EXPORT(PanelGemmImpl);
HWY_EXPORT(PackPanelImpl);

void PackPanel(const float* w, int64_t ldw, int64_t rows, int64_t k, float* packed) {
  HWY_DYNAMIC_DISPATCH(PackPanelImpl)(w, ldw, rows, k, packed);
}
int64_t PanelGemmGroupColumns() { return HWY_DYNAMIC_DISPATCH(GroupColumnsImpl)(); }
void PanelGemm(int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* b, int64_t ldb,
               int64_t group_stride, float* c, int64_t ldc) {
  HWY_DYNAMIC_DISPATCH(PanelGemmImpl)(m, n, k, a, lda, b, ldb, group_stride, c, ldc);
}
}  // namespace sieve::kernels
#endif
