// Scalar reference for kernels/matmul.h: decodes each weight with core/dtype.h's exact conversions and
// accumulates in double, so the SIMD kernels are checked against the math, not against themselves.
#pragma once

#include <cstring>
#include <vector>

#include "kernels/weight_matrix.h"

namespace sieve::kernels::reference {

inline float WeightAt(const WeightMatrix& w, int64_t r, int64_t c) {
  const std::byte* row = w.RowBytes(r);
  switch (w.dtype) {
    case DType::kF8E4M3:
      return E4m3ToFloat(static_cast<uint8_t>(row[c])) *
             w.scale_inv[((w.row_begin + r) / w.block_rows) * w.scale_cols + (w.col_begin + c) / w.block_cols];
    case DType::kBF16: {
      uint16_t b;
      std::memcpy(&b, row + 2 * c, 2);
      return Bf16ToFloat(b);
    }
    default: {
      float f;
      std::memcpy(&f, row + 4 * c, 4);
      return f;
    }
  }
}

// y [n, rows] = x [n, cols] . W^T, also returning sum |x||w| per output (the error scale).
inline void Matmul(const WeightMatrix& w, const float* x, int64_t n, std::vector<double>* y,
                   std::vector<double>* magnitude) {
  y->assign(n * w.rows, 0.0);
  magnitude->assign(n * w.rows, 0.0);
  for (int64_t t = 0; t < n; ++t)
    for (int64_t r = 0; r < w.rows; ++r)
      for (int64_t c = 0; c < w.cols; ++c) {
        const double p = static_cast<double>(x[t * w.cols + c]) * WeightAt(w, r, c);
        (*y)[t * w.rows + r] += p;
        (*magnitude)[t * w.rows + r] += std::abs(p);
      }
}

}  // namespace sieve::kernels::reference
