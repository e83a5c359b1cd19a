// Prometheus metrics under vLLM's names (vllm/v1/metrics/loggers.py), so dashboards and `vllm bench serve`
// read Sieve like vLLM: gauges and token counters come from engine::EngineStats when scraped; latency
// histograms and finished-request counters are recorded by the server as requests end.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "engine/engine.h"

namespace sieve::server {

// A cumulative Prometheus histogram with fixed upper bounds.
class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds);
  void Observe(double value);
  // `name`_bucket{le=...}, `name`_sum and `name`_count lines, with `labels` ("model_name=\"m\"").
  std::string Render(const std::string& name, const std::string& help, const std::string& labels) const;

 private:
  std::vector<double> bounds_;
  std::vector<uint64_t> counts_;  // per bound, not cumulative; the last slot is +Inf
  double sum_ = 0;
  uint64_t count_ = 0;
};

struct FinishedRequest {
  std::string finish_reason;          // of the request's first choice: stop | length | abort
  double time_to_first_token_s = -1;  // < 0: no token was generated
  double e2e_latency_s = 0;
  int64_t prompt_tokens = 0;
  int64_t generation_tokens = 0;
};

class ServerMetrics {
 public:
  explicit ServerMetrics(std::string model_name);
  void RecordFinished(const FinishedRequest& r);
  // The exposition text (version 0.0.4) for GET /metrics.
  std::string Render(const engine::EngineStats& stats) const;

 private:
  const std::string labels_;
  mutable std::mutex mu_;
  std::map<std::string, uint64_t> success_by_reason_;
  Histogram ttft_;
  Histogram e2e_;
  Histogram time_per_output_token_;
  Histogram prompt_tokens_;
  Histogram generation_tokens_;
};

}  // namespace sieve::server
