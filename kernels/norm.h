// Normalisations over the last dimension, fp32 in and out (sums in double, then one rounding).
#pragma once

#include <cstdint>

namespace sieve::kernels {

// RMSNorm (DeepSeek-V3 inference/model.py, class RMSNorm): y = x * rsqrt(mean(x^2) + eps) * w.
// x, y [n_rows, dim] (may alias); w [dim].
void RmsNorm(const float* x, const float* w, int64_t n_rows, int64_t dim, float eps, float* y);
// LayerNorm with bias (the indexer's k_norm): y = (x - mean) / sqrt(var + eps) * w + b, biased variance.
void LayerNorm(const float* x, const float* w, const float* b, int64_t n_rows, int64_t dim, float eps, float* y);

}  // namespace sieve::kernels
