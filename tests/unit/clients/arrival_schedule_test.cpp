// Send times of bench serve: all at 0 for rate inf, and a gamma process rescaled to end at exactly N/rate.
#include "clients/arrival_schedule.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

namespace sieve::clients {
namespace {

TEST(ArrivalSchedule, InfiniteRateSendsEverythingAtStart) {
  EXPECT_EQ(ArrivalTimes(3, INFINITY, 1.0, 0), (std::vector<double>{0, 0, 0}));
}

TEST(ArrivalSchedule, PoissonTimesAreRescaledToNOverRate) {
  const auto t = ArrivalTimes(100, 4.0, 1.0, 0);
  ASSERT_EQ(t.size(), 100u);
  EXPECT_DOUBLE_EQ(t.back(), 25.0);
  EXPECT_TRUE(std::is_sorted(t.begin(), t.end()));
  EXPECT_NE(t, ArrivalTimes(100, 4.0, 1.0, 1));  // negative control: the seed changes the draws
}

TEST(ArrivalSchedule, InfiniteBurstinessGivesConstantGaps) {
  const auto t = ArrivalTimes(4, 2.0, INFINITY, 0);
  EXPECT_EQ(t, (std::vector<double>{0.5, 1.0, 1.5, 2.0}));
}

}  // namespace
}  // namespace sieve::clients
