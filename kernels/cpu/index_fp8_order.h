// The order of operations that defines the bits of an FP8 lightning-indexer score (kernels/index_score.h),
// shared by the portable kernel (kernels/index_score.cpp, every Highway target with FMA) and the AVX512-BF16 one
// (kernels/cpu/index_score_bf16_dot.cpp), so that either gives the same score on any machine:
//   - per (key, head), the dot of the e4m3 code values (each product exact in fp32) accumulates pairs of
//     elements in order, the odd element of each pair first: acc = fma(q[2p+1], k[2p+1], acc), then
//     acc = fma(q[2p], k[2p], acc), one rounding each: the order vdpbf16ps performs (Intel SDM, VDPBF16PS;
//     checked on this machine's AMD cores by tests/unit/kernels/index_score_test.cpp);
//   - head h goes to virtual lane h % 16: lane = fma(ReLU(acc_h), w_h, lane), heads in increasing order
//     (on targets without FMA, SSE4 and the scalar ones, a product and a sum: the only bits that differ);
//   - the 16 lanes are summed by SumIndexLanes' halving tree, then multiplied by the key's scale.
#pragma once

namespace sieve::kernels {

inline constexpr int kIndexLanes = 16;

// lanes [16] (overwritten): ((l0 + l8) + (l4 + l12)) + ... as a halving tree, lane l += lane l + width.
inline float SumIndexLanes(float* lanes) {
  for (int width = kIndexLanes / 2; width >= 1; width /= 2)
    for (int l = 0; l < width; ++l) lanes[l] += lanes[l + width];
  return lanes[0];
}

}  // namespace sieve::kernels
