// Elementwise activations of the feed-forward blocks.
#pragma once

#include <cstdint>

namespace sieve::kernels {

// SwiGLU gate (DeepSeek-V3 inference/model.py, MLP.forward): out[i] = silu(gate[i]) * up[i],
// silu(g) = g / (1 + exp(-g)). out may alias gate.
void SiluMul(const float* gate, const float* up, int64_t n, float* out);

}  // namespace sieve::kernels
