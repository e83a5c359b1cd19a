// When each `sieve bench serve` request is sent (vLLM get_request, bench-serve.md §3): gaps drawn from
// gamma(shape=burstiness, scale=1/(rate*burstiness)) (burstiness 1 = Poisson), summed, then rescaled so the
// last send is exactly N/rate seconds after the start. rate = inf sends everything at t = 0.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace sieve::clients {

// Send times in seconds from the benchmark start, one per request, non-decreasing.
// burstiness = inf gives a constant gap 1/rate. Drawn with std::mt19937_64 (not numpy's generator).
std::vector<double> ArrivalTimes(size_t num_requests, double request_rate, double burstiness, uint64_t seed);

}  // namespace sieve::clients
