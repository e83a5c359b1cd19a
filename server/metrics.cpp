// Prometheus exposition of the serving metrics. Bucket bounds are vLLM's (vllm/v1/metrics/loggers.py).
#include "server/metrics.h"

#include <fmt/format.h>

#include <algorithm>

namespace sieve::server {

Histogram::Histogram(std::vector<double> upper_bounds)
    : upper_bounds_(std::move(upper_bounds)), counts_(upper_bounds_.size(), 0) {}

void Histogram::Observe(double value) {
  const auto it = std::lower_bound(upper_bounds_.begin(), upper_bounds_.end(), value);
  if (it != upper_bounds_.end()) ++counts_[it - upper_bounds_.begin()];
  ++count_;
  sum_ += value;
}

std::string Histogram::Render(const std::string& name, const std::string& labels) const {
  std::string out;
  int64_t cumulative = 0;
  for (size_t i = 0; i < upper_bounds_.size(); ++i) {
    cumulative += counts_[i];
    out += fmt::format("{}_bucket{{{},le=\"{}\"}} {}\n", name, labels, upper_bounds_[i], cumulative);
  }
  out += fmt::format("{}_bucket{{{},le=\"+Inf\"}} {}\n", name, labels, count_);
  out += fmt::format("{}_sum{{{}}} {}\n{}_count{{{}}} {}\n", name, labels, sum_, name, labels, count_);
  return out;
}

Metrics::Metrics(std::string model_name)
    : model_name_(std::move(model_name)),
      ttft_({0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0,
             80.0, 160.0, 640.0, 2560.0}),
      e2e_latency_({0.3, 0.5, 0.8, 1.0, 1.5, 2.0, 2.5, 5.0, 10.0, 15.0, 20.0, 30.0, 40.0, 50.0, 60.0, 120.0, 240.0,
                    480.0, 960.0, 1920.0, 7680.0}) {}

void Metrics::RecordFirstToken(double ttft_s) {
  std::lock_guard<std::mutex> lock(mu_);
  ttft_.Observe(ttft_s);
}

void Metrics::RecordFinish(const std::string& finish_reason, double e2e_latency_s) {
  std::lock_guard<std::mutex> lock(mu_);
  ++finished_by_reason_[finish_reason];
  e2e_latency_.Observe(e2e_latency_s);
}

std::string Metrics::Render(const engine::EngineStats& s) const {
  const std::string labels = fmt::format("model_name=\"{}\"", model_name_);
  std::string out;
  auto metric = [&](const char* name, const char* type, const char* help, auto value) {
    out += fmt::format("# HELP {} {}\n# TYPE {} {}\n{}{{{}}} {}\n", name, help, name, type, name, labels, value);
  };
  metric("vllm:num_requests_running", "gauge", "Sequences running in the engine now.", s.num_running);
  metric("vllm:num_requests_waiting", "gauge", "Sequences waiting to be scheduled.", s.num_waiting);
  const double usage = s.kv_blocks_total > 0 ? double(s.kv_blocks_used) / double(s.kv_blocks_total) : 0.0;
  metric("vllm:kv_cache_usage_perc", "gauge", "KV-cache usage, 1 means 100 percent.", usage);
  metric("vllm:prompt_tokens_total", "counter", "Prefill tokens processed.", s.prompt_tokens_total);
  metric("vllm:generation_tokens_total", "counter", "Generated tokens.", s.generation_tokens_total);
  metric("vllm:prefix_cache_queries_total", "counter", "Prompt tokens looked up in the prefix cache.", s.prefix_cache_queries);
  metric("vllm:prefix_cache_hits_total", "counter", "Prompt tokens found in the prefix cache.", s.prefix_cache_hits);
  metric("vllm:num_preemptions_total", "counter", "Preempted sequences.", s.num_preemptions_total);
  std::lock_guard<std::mutex> lock(mu_);
  out += "# HELP vllm:request_success_total Finished requests by finish reason.\n"
         "# TYPE vllm:request_success_total counter\n";
  for (const char* reason : {"stop", "length", "abort"}) {
    const auto it = finished_by_reason_.find(reason);
    out += fmt::format("vllm:request_success_total{{{},finished_reason=\"{}\"}} {}\n", labels, reason,
                       it == finished_by_reason_.end() ? 0 : it->second);
  }
  out += "# HELP vllm:time_to_first_token_seconds Time to the first generated token.\n"
         "# TYPE vllm:time_to_first_token_seconds histogram\n";
  out += ttft_.Render("vllm:time_to_first_token_seconds", labels);
  out += "# HELP vllm:e2e_request_latency_seconds Time from arrival to the last token.\n"
         "# TYPE vllm:e2e_request_latency_seconds histogram\n";
  out += e2e_latency_.Render("vllm:e2e_request_latency_seconds", labels);
  return out;
}

}  // namespace sieve::server
