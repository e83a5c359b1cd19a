// Sanity of the machine-limit probes: positive, finite, in a physically possible range, and repeatable
// to an order of magnitude. Never a timing threshold that a slow or busy machine could fail.
#include "kernels/machine_limits.h"

#include <gtest/gtest.h>

#include <cmath>

#include "kernels/cpu/bf16_dot.h"

namespace sieve::kernels {
namespace {

TEST(MachineLimits, ReadBandwidthIsPositiveAndRepeatable) {
  ThreadPool pool(2);
  // 64 MiB: beyond the caches of small machines yet quick; the benchmarks use 1 GiB.
  const ProbeResult a = MeasureReadBandwidth(pool, int64_t{64} << 20, 3);
  const ProbeResult b = MeasureReadBandwidth(pool, int64_t{64} << 20, 3);
  EXPECT_TRUE(std::isfinite(a.best));
  EXPECT_GE(a.best, a.median);
  // Between 100 MB/s (a very slow machine) and 100 TB/s (no memory system streams that).
  EXPECT_GT(a.median, 1e8);
  EXPECT_LT(a.best, 1e14);
  EXPECT_LT(std::abs(std::log10(a.best / b.best)), 1.0);  // same order of magnitude
}

TEST(MachineLimits, FmaPeakIsPositiveAndRepeatable) {
  ThreadPool pool(2);
  const ProbeResult a = MeasureFmaPeak(pool, 200000, 3);
  const ProbeResult b = MeasureFmaPeak(pool, 200000, 3);
  EXPECT_TRUE(std::isfinite(a.best));
  EXPECT_GE(a.best, a.median);
  EXPECT_GT(a.median, 1e8);   // 100 MFLOP/s
  EXPECT_LT(a.best, 1e14);    // 100 TFLOP/s would be a miscount on any CPU pool
  EXPECT_LT(std::abs(std::log10(a.best / b.best)), 1.0);
}

TEST(MachineLimits, FmaRateDoesNotDependOnTheWorkSize) {
  // Checks that the rounds are really executed: were the chains optimised away, 10x the rounds would take
  // no longer and the reported rate would grow ~10x. A correct count gives the same rate either way.
  ThreadPool pool(1);
  const ProbeResult few = MeasureFmaPeak(pool, 20000, 3);
  const ProbeResult many = MeasureFmaPeak(pool, 200000, 3);
  EXPECT_LT(std::abs(std::log10(many.best / few.best)), 0.7);  // within 5x, far from 10x
}

// The bf16 dot probe where the CPU has the instruction: in range, its rounds really run (as above), and
// near twice the fp32 FMA peak in FLOPs (two products per lane per instruction) rather than a miscount.
TEST(MachineLimits, Bf16DotPeakIsPositiveAndCountsItsWork) {
  ThreadPool pool(1);
  if (!HasBf16DotInstruction()) {
    EXPECT_EQ(MeasureBf16DotPeak(pool, 20000, 3).best, 0.0);
    GTEST_SKIP() << "this CPU has no AVX512-BF16";
  }
  const ProbeResult few = MeasureBf16DotPeak(pool, 20000, 3);
  const ProbeResult many = MeasureBf16DotPeak(pool, 200000, 3);
  EXPECT_TRUE(std::isfinite(many.best));
  EXPECT_GT(many.median, 1e8);
  EXPECT_LT(many.best, 1e14);
  EXPECT_LT(std::abs(std::log10(many.best / few.best)), 0.7);
  const ProbeResult fma = MeasureFmaPeak(pool, 200000, 3);
  EXPECT_LT(std::abs(std::log10(many.best / (2 * fma.best))), 0.7);  // within 5x of twice the FMA peak
}

}  // namespace
}  // namespace sieve::kernels
