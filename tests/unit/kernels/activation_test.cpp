// kernels/activation.h on every compiled Highway target: SiluMul against silu(g) * u in double precision,
// over gate values from deep negative (exp(-g) overflows) to large positive, with a length that leaves a
// tail; the same bits whatever the thread count and wherever a range starts (the tail lanes use the
// vector arithmetic too); in place (out aliasing gate).
#include "kernels/activation.h"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <random>
#include <vector>

#include "tests/unit/kernels/on_each_target.h"

namespace sieve::kernels {
namespace {

class SiluMulOnEachTarget : public OnEachTarget {};

std::vector<uint32_t> Bits(const float* v, int64_t n) {
  std::vector<uint32_t> b(n);
  for (int64_t i = 0; i < n; ++i) b[i] = std::bit_cast<uint32_t>(v[i]);
  return b;
}

TEST_P(SiluMulOnEachTarget, MatchesSiluTimesUpAndDoesNotDependOnTheSplit) {
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> gate_value(-120.0f, 40.0f), up_value(-3.0f, 3.0f);
  const int64_t n = 3 * 4096 + 37;  // several pool units and a tail that is not a whole vector
  std::vector<float> gate(n), up(n);
  for (int64_t i = 0; i < n; ++i) {
    gate[i] = i % 3 == 0 ? gate_value(rng) : gate_value(rng) / 40.0f;  // many near 0, some far out
    up[i] = up_value(rng);
  }
  ThreadPool one(1), three(3);
  std::vector<float> single(n), pooled(n);
  SiluMul(gate.data(), up.data(), n, single.data(), one);
  SiluMul(gate.data(), up.data(), n, pooled.data(), three);
  EXPECT_EQ(Bits(single.data(), n), Bits(pooled.data(), n));
  for (int64_t i = 0; i < n; ++i) {
    const double g = gate[i], want = g / (1.0 + std::exp(-g)) * up[i];
    ASSERT_NEAR(single[i], want, 4e-7 * std::abs(want) + 1e-30) << "gate " << g;
  }
  // A range starting mid-vector gives each element the bits it got in the whole call.
  std::vector<float> part(n - 5);
  SiluMul(gate.data() + 5, up.data() + 5, n - 5, part.data(), one);
  EXPECT_EQ(Bits(part.data(), n - 5), Bits(single.data() + 5, n - 5));
  // In place.
  SiluMul(gate.data(), up.data(), n, gate.data(), three);
  EXPECT_EQ(Bits(gate.data(), n), Bits(single.data(), n));
}

SIEVE_INSTANTIATE_ON_EACH_TARGET(SiluMulOnEachTarget);

}  // namespace
}  // namespace sieve::kernels
