// HadamardRotate equals multiplication by the Sylvester Hadamard matrix times n^-0.5 (the indexer's
// rotate_activation), and is its own inverse.
#include "kernels/hadamard.h"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <random>
#include <vector>

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

}  // namespace
}  // namespace sieve::kernels
