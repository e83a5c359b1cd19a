// SIMD bodies of kernels/machine_limits.h (Highway, one build per target, dispatched at runtime).
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/cpu/machine_limits.cpp"
#include <hwy/foreach_target.h>  // must come before highway.h
#include <hwy/highway.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <memory>
#include <vector>

#include "kernels/cpu/bf16_dot.h"
#include "kernels/machine_limits.h"

HWY_BEFORE_NAMESPACE();
namespace sieve::kernels::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// Sum of a[0, n) with 8 accumulators: enough independent adds to keep two load ports busy.
float SumImpl(const float* HWY_RESTRICT a, int64_t n) {
  const hn::ScalableTag<float> df;
  const int64_t lanes = static_cast<int64_t>(hn::Lanes(df));
  auto s0 = hn::Zero(df), s1 = hn::Zero(df), s2 = hn::Zero(df), s3 = hn::Zero(df);
  auto s4 = hn::Zero(df), s5 = hn::Zero(df), s6 = hn::Zero(df), s7 = hn::Zero(df);
  int64_t i = 0;
  for (; i + 8 * lanes <= n; i += 8 * lanes) {
    s0 = hn::Add(s0, hn::Load(df, a + i));
    s1 = hn::Add(s1, hn::Load(df, a + i + lanes));
    s2 = hn::Add(s2, hn::Load(df, a + i + 2 * lanes));
    s3 = hn::Add(s3, hn::Load(df, a + i + 3 * lanes));
    s4 = hn::Add(s4, hn::Load(df, a + i + 4 * lanes));
    s5 = hn::Add(s5, hn::Load(df, a + i + 5 * lanes));
    s6 = hn::Add(s6, hn::Load(df, a + i + 6 * lanes));
    s7 = hn::Add(s7, hn::Load(df, a + i + 7 * lanes));
  }
  const auto s = hn::Add(hn::Add(hn::Add(s0, s1), hn::Add(s2, s3)), hn::Add(hn::Add(s4, s5), hn::Add(s6, s7)));
  float sum = hn::GetLane(hn::SumOfLanes(df, s));
  for (; i < n; ++i) sum += a[i];
  return sum;
}

// kChains independent FMA chains: Zen 4/5 and recent Intel cores have a 4-cycle FMA latency and two FMA
// pipes, so at least 8 chains are needed to saturate them; 12 leave headroom without spilling registers.
float FmaChainsImpl(int64_t rounds) {
  constexpr int kChains = 12;
  const hn::ScalableTag<float> df;
  const auto mul = hn::Set(df, 0.999999f);
  const auto add = hn::Set(df, 1e-7f);
  decltype(hn::Zero(df)) acc[kChains];
  for (int c = 0; c < kChains; ++c) acc[c] = hn::Set(df, 1.0f + 0.001f * c);
  for (int64_t r = 0; r < rounds; ++r)
    for (int c = 0; c < kChains; ++c) acc[c] = hn::MulAdd(acc[c], mul, add);
  auto s = acc[0];
  for (int c = 1; c < kChains; ++c) s = hn::Add(s, acc[c]);
  return hn::GetLane(hn::SumOfLanes(df, s));
}

int64_t FmaFlopsPerRoundImpl() { return 2 * 12 * static_cast<int64_t>(hn::Lanes(hn::ScalableTag<float>())); }

}  // namespace sieve::kernels::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace sieve::kernels {
HWY_EXPORT(SumImpl);
HWY_EXPORT(FmaChainsImpl);
HWY_EXPORT(FmaFlopsPerRoundImpl);

namespace {

using Clock = std::chrono::steady_clock;

ProbeResult Summarize(std::vector<double> rates) {
  std::sort(rates.begin(), rates.end());
  return {rates.back(), rates[rates.size() / 2]};
}

}  // namespace

ProbeResult MeasureReadBandwidth(ThreadPool& pool, int64_t buffer_bytes, int passes) {
  const int threads = pool.num_threads();
  // Each thread's slice is a whole number of 64-float (256-byte) groups, so every SIMD width divides it.
  constexpr int64_t kGroup = 64;
  constexpr size_t kAlignment = 256;  // a whole number of cache lines and of any SIMD width
  const int64_t per_thread = std::max<int64_t>(kGroup, buffer_bytes / int64_t{sizeof(float)} / threads / kGroup * kGroup);
  const int64_t n = per_thread * threads;
  auto buffer = std::unique_ptr<float[], decltype(&free)>(
      static_cast<float*>(std::aligned_alloc(kAlignment, n * sizeof(float))), &free);
  // First touch by the thread that later reads the slice (NUMA placement), and a value that is not zero
  // so no page is the shared zero page.
  pool.OnEachThread([&](int t) { std::fill_n(buffer.get() + t * per_thread, per_thread, 1.0f); });
  std::vector<float> partial(threads);
  volatile float sink = 0;
  std::vector<double> rates;
  for (int p = 0; p < std::max(1, passes); ++p) {
    const auto start = Clock::now();
    pool.OnEachThread([&](int t) { partial[t] = HWY_DYNAMIC_DISPATCH(SumImpl)(buffer.get() + t * per_thread, per_thread); });
    const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    for (float s : partial) sink = sink + s;
    rates.push_back(static_cast<double>(n * sizeof(float)) / seconds);
  }
  return Summarize(std::move(rates));
}

ProbeResult MeasureFmaPeak(ThreadPool& pool, int64_t fmas_per_lane_per_chain, int passes) {
  const int threads = pool.num_threads();
  const int64_t rounds = std::max<int64_t>(1, fmas_per_lane_per_chain);
  std::vector<float> partial(threads);
  volatile float sink = 0;
  std::vector<double> rates;
  for (int p = 0; p < std::max(1, passes); ++p) {
    const auto start = Clock::now();
    pool.OnEachThread([&](int t) { partial[t] = HWY_DYNAMIC_DISPATCH(FmaChainsImpl)(rounds); });
    const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    for (float s : partial) sink = sink + s;
    const double flops = static_cast<double>(HWY_DYNAMIC_DISPATCH(FmaFlopsPerRoundImpl)()) * rounds * threads;
    rates.push_back(flops / seconds);
  }
  return Summarize(std::move(rates));
}

ProbeResult MeasureBf16DotPeak(ThreadPool& pool, int64_t rounds, int passes) {
  if (!HasBf16DotInstruction()) return {};
  const int threads = pool.num_threads();
  rounds = std::max<int64_t>(1, rounds);
  std::vector<float> partial(threads);
  volatile float sink = 0;
  std::vector<double> rates;
  for (int p = 0; p < std::max(1, passes); ++p) {
    const auto start = Clock::now();
    pool.OnEachThread([&](int t) { partial[t] = Bf16DotChains(rounds); });
    const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    for (float s : partial) sink = sink + s;
    // 16 lanes x 2 products per instruction, 2 FLOPs each.
    rates.push_back(64.0 * kBf16DotChains * static_cast<double>(rounds) * threads / seconds);
  }
  return Summarize(std::move(rates));
}

bool Bf16DotOutrunsFma() {
  static const bool outruns = [] {
    if (!HasBf16DotInstruction()) return false;
    // 12 chains x 4,096 rounds of each instruction per pass (~50K instructions, tens of microseconds); the
    // best of 5 interleaved passes, so a frequency change or an interrupt in one pass does not decide.
    constexpr int64_t kRounds = 4096;
    constexpr int kPasses = 5;
    volatile float sink = 0;
    double dot = 0, fma = 0;  // multiply-adds per second
    for (int p = 0; p < kPasses; ++p) {
      const auto t0 = Clock::now();
      sink = sink + Bf16DotChains(kRounds);
      const auto t1 = Clock::now();
      sink = sink + HWY_DYNAMIC_DISPATCH(FmaChainsImpl)(kRounds);
      const auto t2 = Clock::now();
      dot = std::max(dot, 32.0 * kBf16DotChains * kRounds / std::chrono::duration<double>(t1 - t0).count());
      fma = std::max(fma, 0.5 * static_cast<double>(HWY_DYNAMIC_DISPATCH(FmaFlopsPerRoundImpl)()) * kRounds /
                              std::chrono::duration<double>(t2 - t1).count());
    }
    return dot > 1.25 * fma;
  }();
  return outruns;
}

}  // namespace sieve::kernels
#endif
