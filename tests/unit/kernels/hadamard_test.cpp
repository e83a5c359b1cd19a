// HadamardRotate equals multiplication by the Sylvester Hadamard matrix times n^-0.5 (the indexer's
// rotate_activation), and is its own inverse; every Highway target gives the scalar butterflies' bits.
#include "kernels/hadamard.h"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "tests/unit/kernels/on_each_target.h"

namespace sieve::kernels {
namespace {

TEST(HadamardRotate, EqualsSylvesterMatrixProduct) {
  std::mt19937 rng(1);
  std::normal_distribution<float> d;
  for (int64_t n : {1, 2, 8, 128}) {
    std::vector<float> x(n);
    for (float& v : x) v = d(rng);
    std::vector<float> y = x;
    HadamardRotate(y.data(), n);
    for (int64_t i = 0; i < n; ++i) {
      double want = 0;
      for (int64_t j = 0; j < n; ++j) want += (std::popcount(static_cast<uint64_t>(i & j)) % 2 ? -1.0 : 1.0) * x[j];
      want /= std::sqrt(static_cast<double>(n));
      EXPECT_NEAR(y[i], want, 1e-5) << "n=" << n << " i=" << i;
    }
    HadamardRotate(y.data(), n);  // H H^T = n I, so two rotations restore x
    for (int64_t i = 0; i < n; ++i) EXPECT_NEAR(y[i], x[i], 1e-5);
  }
}

TEST(HadamardRotate, IsNotTheIdentity) {  // negative control for the round trip above
  std::vector<float> x = {1, 0, 0, 0};
  HadamardRotate(x.data(), 4);
  EXPECT_EQ(x, (std::vector<float>{0.5f, 0.5f, 0.5f, 0.5f}));
}

// The butterflies in scalar code, pass by pass, as the reference's in-place transform runs them.
std::vector<float> ScalarRotation(std::vector<float> x) {
  const int64_t n = static_cast<int64_t>(x.size());
  for (int64_t half = 1; half < n; half *= 2)
    for (int64_t i = 0; i < n; i += 2 * half)
      for (int64_t j = i; j < i + half; ++j) {
        const float a = x[j], b = x[j + half];
        x[j] = a + b;
        x[j + half] = a - b;
      }
  const float scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(n)));
  for (float& v : x) v *= scale;
  return x;
}

class HadamardOnEachTarget : public OnEachTarget {};

TEST_P(HadamardOnEachTarget, EqualsScalarButterfliesBitForBit) {
  std::mt19937 rng(2);
  std::normal_distribution<float> d;
  for (int64_t n : {1, 2, 4, 8, 16, 32, 64, 128, 256}) {  // below, at and above one vector of each target
    std::vector<float> x(n);
    for (float& v : x) v = d(rng);
    const std::vector<float> want = ScalarRotation(x);
    HadamardRotate(x.data(), n);
    EXPECT_EQ(std::memcmp(x.data(), want.data(), n * sizeof(float)), 0) << "n=" << n;
  }
}

SIEVE_INSTANTIATE_ON_EACH_TARGET(HadamardOnEachTarget);

}  // namespace
}  // namespace sieve::kernels
