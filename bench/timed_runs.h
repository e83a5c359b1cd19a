// Timing for the kernel benchmarks in bench/: the median and the best of several timed calls, as
// docs/performance.md reports them.
#pragma once

#include <algorithm>
#include <chrono>
#include <functional>
#include <vector>

namespace sieve::bench {

struct RunTimes {
  double median = 0, best = 0;  // seconds
};

// `runs` timed calls of fn, after `warmups` untimed ones.
inline RunTimes TimeRuns(int runs, const std::function<void()>& fn, int warmups = 0) {
  for (int w = 0; w < warmups; ++w) fn();
  std::vector<double> secs;
  for (int r = 0; r < runs; ++r) {
    const auto start = std::chrono::steady_clock::now();
    fn();
    secs.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  std::sort(secs.begin(), secs.end());
  return {secs[secs.size() / 2], secs.front()};
}

}  // namespace sieve::bench
