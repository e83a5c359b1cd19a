// Softmax building blocks in SIMD: exponentials of shifted values with their sum, and a maximum. Used by
// the prefill attention's masked softmax (gemm_attention.h) and the sampler's draw (engine/sampler.h), where
// a scalar std::exp over 2M scores per head and layer, or a 129K-token vocabulary per sampled token, was a
// visible share of the step. Exp has at most 1 ulp of error (Highway's hwy/contrib/math), and is exactly 0
// for arguments below -104 (-inf included).
#pragma once

#include <cstdint>

namespace sieve::kernels {

// x[i] = exp((x[i] - shift) * scale) for i < n; returns their sum (float lanes, then across lanes).
float ExpShiftedSum(float* x, int64_t n, float shift, float scale);

// max of x[0, n), n > 0.
float MaxOf(const float* x, int64_t n);

}  // namespace sieve::kernels
