// Speculative sampling's acceptance rule (see rejection_sampler.h).
#include "engine/rejection_sampler.h"

#include <algorithm>

namespace sieve::engine {

double UniformDouble(std::mt19937_64& rng) { return static_cast<double>(rng() >> 11) * 0x1.0p-53; }

RejectionResult RejectionSample(std::span<const double> p, std::span<const double> q, int32_t draft,
                                std::mt19937_64& rng) {
  // Accept when u < p/q, i.e. u * q < p (no division: q(draft) > 0 because draft was drawn from q).
  if (UniformDouble(rng) * q[draft] < p[draft]) return {draft, true};
  // Rejected: draw from the residual max(0, p - q) by inverse CDF over token ids.
  double total = 0;
  for (size_t i = 0; i < p.size(); ++i) total += std::max(0.0, p[i] - q[i]);
  const double target = UniformDouble(rng) * total;
  double cumulative = 0;
  int32_t last_possible = draft;
  for (size_t i = 0; i < p.size(); ++i) {
    const double w = std::max(0.0, p[i] - q[i]);
    if (w <= 0) continue;
    last_possible = static_cast<int32_t>(i);
    cumulative += w;
    if (cumulative > target) return {last_possible, false};
  }
  return {last_possible, false};  // rounding left target at the very top
}

}  // namespace sieve::engine
