// The result numbers of `sieve bench serve`, computed as vLLM's calculate_metrics does
// (vllm/benchmarks/serve.py @ 009e6d4a, bench-serve.md §5), over successful requests only.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "clients/request_timing.h"

namespace sieve::clients {

// np.percentile with the default linear interpolation; 0 for an empty list.
double Percentile(std::vector<double> values, double p);

// mean / median / std (population) / requested percentiles of one metric, in milliseconds.
struct MetricStats {
  double mean_ms = 0, median_ms = 0, std_ms = 0;
  std::vector<std::pair<double, double>> percentiles_ms;  // {p, value}
};
MetricStats SummarizeSeconds(const std::vector<double>& values_s, const std::vector<double>& percentiles);

struct ServeMetrics {
  size_t completed = 0, failed = 0;
  double duration_s = 0;
  long total_input = 0, total_output = 0;
  double request_throughput = 0, output_throughput = 0, total_token_throughput = 0;
  double max_output_tokens_per_s = 0;  // largest count of token events in a 1 s bucket
  int max_concurrent_requests = 0;     // largest overlap of [start, start + latency)
  MetricStats ttft, tpot, itl, e2el;
  std::optional<MetricStats> queue_time, e2el_with_queue;  // with --max-concurrency (the latter at finite rate)
  std::vector<int> output_lens;        // per request, 0 for failures
};

// `percentiles` e.g. {99}. With max_concurrency set, queue-time stats are added (and queue-inclusive E2EL
// when the rate is finite).
ServeMetrics CalculateServeMetrics(const std::vector<RequestOutput>& outputs, double duration_s,
                                   const std::vector<double>& percentiles, bool with_max_concurrency,
                                   bool finite_rate);

}  // namespace sieve::clients
