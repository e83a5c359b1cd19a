// kernels/top_k.h against the selection it replaced in the indexer (nth_element over positions under
// (higher score, lower position), then sorted): random scores, heavy ties (scores rounded to a few values,
// so the k-th falls inside a run of equal ones), both zeros, negative scores, k = 1 and k = n.
#include "kernels/top_k.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <vector>

namespace sieve::kernels {
namespace {

std::vector<int32_t> Reference(const std::vector<float>& s, int64_t k) {
  std::vector<int32_t> order(s.size());
  std::iota(order.begin(), order.end(), 0);
  std::nth_element(order.begin(), order.begin() + (k - 1), order.end(),
                   [&](int32_t a, int32_t b) { return s[a] > s[b] || (s[a] == s[b] && a < b); });
  order.resize(k);
  std::sort(order.begin(), order.end());
  return order;
}

std::vector<int32_t> Got(const std::vector<float>& s, int64_t k) {
  std::vector<int32_t> out(k, -1);
  TopKPositions(s.data(), static_cast<int64_t>(s.size()), k, out.data());
  return out;
}

TEST(TopKPositions, EqualsTheSortedSelection) {
  std::mt19937 rng(11);
  std::normal_distribution<float> normal(0.0f, 2.0f);
  for (const int64_t n : {1, 7, 100, 5000, 32769}) {
    std::vector<float> random(n), tied(n), zeros(n);
    for (int64_t p = 0; p < n; ++p) {
      random[p] = normal(rng);
      tied[p] = std::round(normal(rng));  // about 10 distinct values
      zeros[p] = p % 3 == 0 ? -0.0f : (p % 3 == 1 ? 0.0f : -1.0f);
    }
    for (const int64_t k : {int64_t{1}, std::min<int64_t>(n, 3), std::min<int64_t>(n, 2048), n})
      for (const auto* s : {&random, &tied, &zeros}) EXPECT_EQ(Got(*s, k), Reference(*s, k)) << n << " " << k;
  }
}

TEST(TopKPositions, TiesGoToLowerPositions) {  // negative control for a selection that ignores position
  const std::vector<float> s = {1.0f, 5.0f, 5.0f, 5.0f, 2.0f};
  EXPECT_EQ(Got(s, 2), (std::vector<int32_t>{1, 2}));
  EXPECT_EQ(Got(s, 4), (std::vector<int32_t>{1, 2, 3, 4}));
}

}  // namespace
}  // namespace sieve::kernels
