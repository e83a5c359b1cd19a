// Fast Walsh-Hadamard transform (see hadamard.h): log2(n) butterfly passes, then the n^-0.5 scale.
#include "kernels/hadamard.h"

#include <cmath>

namespace sieve::kernels {

void HadamardRotate(float* x, int64_t n) {
  for (int64_t half = 1; half < n; half *= 2)
    for (int64_t i = 0; i < n; i += 2 * half)
      for (int64_t j = i; j < i + half; ++j) {
        const float a = x[j], b = x[j + half];
        x[j] = a + b;
        x[j + half] = a - b;
      }
  const float scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(n)));
  for (int64_t i = 0; i < n; ++i) x[i] *= scale;
}

}  // namespace sieve::kernels
