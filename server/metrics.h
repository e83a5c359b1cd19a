// GET /metrics: Prometheus text format with vLLM's metric names (vllm/v1/metrics/loggers.py), so the
// dashboards and `vllm bench serve` that read a vLLM server read this one. Gauges and token counters
// come from engine::EngineStats; request latencies are recorded here by the routes.
#pragma once

#include <array>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "engine/engine.h"

namespace sieve::server {

class Histogram {
 public:
  explicit Histogram(std::vector<double> upper_bounds);
  void Observe(double value);
  // "<name>_bucket{<labels>,le="..."} n" lines, then _sum and _count.
  std::string Render(const std::string& name, const std::string& labels) const;

 private:
  std::vector<double> upper_bounds_;
  std::vector<int64_t> counts_;  // one per bound, not cumulative
  int64_t count_ = 0;
  double sum_ = 0;
};

class Metrics {
 public:
  explicit Metrics(std::string model_name);
  void RecordFirstToken(double ttft_s);
  // One finished choice: "stop", "length", "abort" (vLLM's finished_reason label values).
  void RecordFinish(const std::string& finish_reason, double e2e_latency_s);
  std::string Render(const engine::EngineStats& stats) const;

 private:
  std::string model_name_;
  mutable std::mutex mu_;
  Histogram ttft_;
  Histogram e2e_latency_;
  std::map<std::string, int64_t> finished_by_reason_;
};

}  // namespace sieve::server
