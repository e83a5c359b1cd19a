// The Walsh-Hadamard rotation the DSA indexer applies to its q and k (DeepSeek-V3.2-Exp inference/model.py,
// rotate_activation, via fast_hadamard_transform): x <- H x * n^-0.5 with H the Sylvester Hadamard matrix
// (H[i][j] = (-1)^popcount(i & j)), which is what the in-place butterfly computes in natural order.
#pragma once

#include <cstdint>

namespace sieve::kernels {

// x [n], n a power of two.
void HadamardRotate(float* x, int64_t n);

}  // namespace sieve::kernels
