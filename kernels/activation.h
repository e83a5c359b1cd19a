// Elementwise activations of the feed-forward blocks.
#pragma once

#include <cstdint>

#include "kernels/thread_pool.h"

namespace sieve::kernels {

// SwiGLU gate (DeepSeek-V3 inference/model.py, MLP.forward): out[i] = silu(gate[i]) * up[i],
// silu(g) = g / (1 + exp(-g)), over the pool. out may alias gate. Every element goes through the same
// vector code (the tail in a padded vector), so a result does not depend on where the split falls.
void SiluMul(const float* gate, const float* up, int64_t n, float* out, ThreadPool& pool);

}  // namespace sieve::kernels
