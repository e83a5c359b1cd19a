// SwiGLU activation (see activation.h).
#include "kernels/activation.h"

#include <cmath>

namespace sieve::kernels {

void SiluMul(const float* gate, const float* up, int64_t n, float* out) {
  for (int64_t i = 0; i < n; ++i) out[i] = gate[i] / (1.0f + std::exp(-gate[i])) * up[i];
}

}  // namespace sieve::kernels
