// The AVX512-BF16 dot-product instruction (vdpbf16ps: 16 lanes x 2 bf16 products added to fp32 per
// instruction, twice the multiply-adds of an fp32 FMA): whether this CPU runs it, and the body of its peak
// probe (kernels/machine_limits.h). Bodies are compiled for the instruction with a function attribute,
// so the rest of the build keeps its baseline; call them only after HasBf16DotInstruction().
#pragma once

#include <cstdint>

namespace sieve::kernels {

// Whether this CPU executes AVX512-BF16 (and the build targets x86-64).
bool HasBf16DotInstruction();

// kBf16DotChains independent chains of `rounds` vdpbf16ps each; returns their sum (to keep them live).
inline constexpr int kBf16DotChains = 12;
float Bf16DotChains(int64_t rounds);

}  // namespace sieve::kernels
