// See bf16_dot.h. 12 chains: Zen 5 issues two vdpbf16ps per cycle with a latency of about 6 cycles.
#include "kernels/cpu/bf16_dot.h"

#if defined(__x86_64__)
#include <immintrin.h>

namespace sieve::kernels {

bool HasBf16DotInstruction() {
  static const bool has = __builtin_cpu_supports("avx512bf16");
  return has;
}

__attribute__((target("avx512f,avx512bf16"))) float Bf16DotChains(int64_t rounds) {
  const __m512bh one = reinterpret_cast<__m512bh>(_mm512_set1_epi32(0x3f803f80));   // bf16 pairs (1, 1)
  const __m512bh half = reinterpret_cast<__m512bh>(_mm512_set1_epi32(0x3f003f00));  // (0.5, 0.5)
  __m512 acc[kBf16DotChains];
  for (int c = 0; c < kBf16DotChains; ++c) acc[c] = _mm512_set1_ps(static_cast<float>(c));
  for (int64_t r = 0; r < rounds; ++r)
    for (int c = 0; c < kBf16DotChains; ++c) acc[c] = _mm512_dpbf16_ps(acc[c], one, half);
  __m512 sum = acc[0];
  for (int c = 1; c < kBf16DotChains; ++c) sum = _mm512_add_ps(sum, acc[c]);
  alignas(64) float lanes[16];
  _mm512_store_ps(lanes, sum);
  float total = 0.0f;
  for (const float v : lanes) total += v;
  return total;
}

}  // namespace sieve::kernels

#else  // not x86-64: no such instruction; Bf16DotChains is never called

namespace sieve::kernels {
bool HasBf16DotInstruction() { return false; }
float Bf16DotChains(int64_t) { return 0.0f; }
}  // namespace sieve::kernels

#endif
