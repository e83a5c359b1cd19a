#include "server/metrics.h"

#include <fmt/format.h>

#include <algorithm>

namespace sieve::server {

namespace {

// Bucket bounds as vLLM's (vllm/v1/metrics/loggers.py).
const std::vector<double> kTtftBuckets = {0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0,
                                          2.5,   5.0,   7.5,  10.0, 20.0, 40.0, 80.0, 160.0, 640.0, 2560.0};
const std::vector<double> kLatencyBuckets = {0.3,  0.5,  0.8,  1.0,  1.5,  2.0,   2.5,   5.0,   10.0,  15.0,
                                             20.0, 30.0, 40.0, 50.0, 60.0, 120.0, 240.0, 480.0, 960.0, 1920.0, 7680.0};
const std::vector<double> kTpotBuckets = {0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2,  0.3,  0.4,   0.5,   0.75,
                                          1.0,  2.5,   5.0,  7.5,   10.0, 20.0, 40.0, 80.0, 160.0, 640.0, 2560.0};
const std::vector<double> kTokenBuckets = {1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000, 100000};

std::string Number(double v) { return fmt::format("{}", v); }

void Gauge(std::string& out, const std::string& name, const std::string& help, const std::string& labels, double v) {
  out += fmt::format("# HELP {0} {1}\n# TYPE {0} gauge\n{0}{{{2}}} {3}\n", name, help, labels, Number(v));
}

void Counter(std::string& out, const std::string& name, const std::string& help, const std::string& labels, double v) {
  out += fmt::format("# HELP {0} {1}\n# TYPE {0} counter\n{0}{{{2}}} {3}\n", name, help, labels, Number(v));
}

}  // namespace

Histogram::Histogram(std::vector<double> bounds) : bounds_(std::move(bounds)), counts_(bounds_.size() + 1, 0) {}

void Histogram::Observe(double value) {
  const size_t slot = std::lower_bound(bounds_.begin(), bounds_.end(), value) - bounds_.begin();
  ++counts_[slot];
  sum_ += value;
  ++count_;
}

std::string Histogram::Render(const std::string& name, const std::string& help, const std::string& labels) const {
  std::string out = fmt::format("# HELP {0} {1}\n# TYPE {0} histogram\n", name, help);
  uint64_t cumulative = 0;
  for (size_t i = 0; i < bounds_.size(); ++i) {
    cumulative += counts_[i];
    out += fmt::format("{}_bucket{{{},le=\"{}\"}} {}\n", name, labels, Number(bounds_[i]), cumulative);
  }
  out += fmt::format("{}_bucket{{{},le=\"+Inf\"}} {}\n", name, labels, count_);
  out += fmt::format("{}_sum{{{}}} {}\n{}_count{{{}}} {}\n", name, labels, Number(sum_), name, labels, count_);
  return out;
}

ServerMetrics::ServerMetrics(std::string model_name)
    : labels_(fmt::format("model_name=\"{}\"", model_name)),
      success_by_reason_{{"stop", 0}, {"length", 0}, {"abort", 0}},
      ttft_(kTtftBuckets),
      e2e_(kLatencyBuckets),
      time_per_output_token_(kTpotBuckets),
      prompt_tokens_(kTokenBuckets),
      generation_tokens_(kTokenBuckets) {}

void ServerMetrics::RecordFinished(const FinishedRequest& r) {
  std::lock_guard<std::mutex> lock(mu_);
  ++success_by_reason_[r.finish_reason];
  if (r.time_to_first_token_s >= 0) ttft_.Observe(r.time_to_first_token_s);
  e2e_.Observe(r.e2e_latency_s);
  if (r.generation_tokens > 1 && r.time_to_first_token_s >= 0)
    time_per_output_token_.Observe((r.e2e_latency_s - r.time_to_first_token_s) / double(r.generation_tokens - 1));
  prompt_tokens_.Observe(double(r.prompt_tokens));
  generation_tokens_.Observe(double(r.generation_tokens));
}

std::string ServerMetrics::Render(const engine::EngineStats& s) const {
  std::string out;
  Gauge(out, "vllm:num_requests_running", "Number of requests in model execution batches.", labels_, double(s.num_running));
  Gauge(out, "vllm:num_requests_waiting", "Number of requests waiting to be processed.", labels_, double(s.num_waiting));
  Gauge(out, "vllm:kv_cache_usage_perc", "KV-cache usage. 1 means 100 percent usage.", labels_,
        s.kv_blocks_total > 0 ? double(s.kv_blocks_used) / double(s.kv_blocks_total) : 0.0);
  Gauge(out, "sieve:kv_cache_blocks_used", "KV-cache blocks held by requests.", labels_, double(s.kv_blocks_used));
  Gauge(out, "sieve:kv_cache_blocks_total", "KV-cache blocks in the pool.", labels_, double(s.kv_blocks_total));
  Counter(out, "vllm:prompt_tokens_total", "Number of prefill tokens processed.", labels_, double(s.prompt_tokens_total));
  Counter(out, "vllm:generation_tokens_total", "Number of generation tokens processed.", labels_,
          double(s.generation_tokens_total));
  Counter(out, "vllm:num_preemptions_total", "Cumulative number of preemptions.", labels_, double(s.num_preemptions_total));
  Counter(out, "vllm:prefix_cache_queries_total", "Prefix-cache queries, in tokens.", labels_, double(s.prefix_cache_queries));
  Counter(out, "vllm:prefix_cache_hits_total", "Prefix-cache hits, in tokens.", labels_, double(s.prefix_cache_hits));
  if (!s.spec_accepted_per_pos.empty()) {  // speculative decoding is on (vllm/v1/spec_decode/metrics.py)
    Counter(out, "vllm:spec_decode_num_drafts_total", "Number of spec decoding drafts.", labels_, double(s.spec_num_drafts));
    Counter(out, "vllm:spec_decode_num_draft_tokens_total", "Number of draft tokens.", labels_,
            double(s.spec_num_draft_tokens));
    Counter(out, "vllm:spec_decode_num_accepted_tokens_total", "Number of accepted tokens.", labels_,
            double(s.spec_num_accepted_tokens));
    out += "# HELP vllm:spec_decode_num_accepted_tokens_per_pos_total Accepted tokens per draft position.\n"
           "# TYPE vllm:spec_decode_num_accepted_tokens_per_pos_total counter\n";
    for (size_t i = 0; i < s.spec_accepted_per_pos.size(); ++i)
      out += fmt::format("vllm:spec_decode_num_accepted_tokens_per_pos_total{{{},position=\"{}\"}} {}\n", labels_, i,
                         s.spec_accepted_per_pos[i]);
  }
  std::lock_guard<std::mutex> lock(mu_);
  out += "# HELP vllm:request_success_total Count of finished requests by finish reason.\n"
         "# TYPE vllm:request_success_total counter\n";
  for (const auto& [reason, n] : success_by_reason_)
    out += fmt::format("vllm:request_success_total{{{},finished_reason=\"{}\"}} {}\n", labels_, reason, n);
  out += ttft_.Render("vllm:time_to_first_token_seconds", "Histogram of time to first token in seconds.", labels_);
  out += e2e_.Render("vllm:e2e_request_latency_seconds", "Histogram of end to end request latency in seconds.", labels_);
  out += time_per_output_token_.Render("vllm:time_per_output_token_seconds",
                                       "Histogram of time per output token in seconds.", labels_);
  out += prompt_tokens_.Render("vllm:request_prompt_tokens", "Number of prefill tokens processed.", labels_);
  out += generation_tokens_.Render("vllm:request_generation_tokens", "Number of generation tokens processed.", labels_);
  return out;
}

}  // namespace sieve::server
