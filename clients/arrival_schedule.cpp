// Request send times; see arrival_schedule.h.
#include "clients/arrival_schedule.h"

#include <cmath>
#include <random>

namespace sieve::clients {

std::vector<double> ArrivalTimes(size_t n, double request_rate, double burstiness, uint64_t seed) {
  std::vector<double> times(n, 0.0);
  if (n == 0 || std::isinf(request_rate)) return times;
  std::mt19937_64 rng(seed);
  std::gamma_distribution<double> gamma(burstiness, 1.0 / (request_rate * burstiness));
  double t = 0;
  for (size_t i = 0; i < n; ++i) {
    t += std::isinf(burstiness) ? 1.0 / request_rate : gamma(rng);
    times[i] = t;
  }
  // The send window is always exactly N/rate seconds, whatever the draws summed to.
  const double target_total = static_cast<double>(n) / request_rate;
  if (times.back() > 0) {
    const double scale = target_total / times.back();
    for (double& v : times) v *= scale;
  }
  return times;
}

}  // namespace sieve::clients
