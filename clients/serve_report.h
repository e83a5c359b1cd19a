// The output of `sieve bench serve`: vLLM's printed result table, byte for byte, and the --save-result
// JSON with vLLM's keys and file name (vllm/benchmarks/serve.py @ 009e6d4a benchmark() and main(),
// bench-serve.md §6-7).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "clients/prometheus_counters.h"
#include "clients/request_timing.h"
#include "clients/serve_metrics.h"

namespace sieve::clients {

struct ServeReport {
  ServeMetrics metrics;
  std::optional<SpecDecodeStats> spec_decode;
  std::optional<int> max_concurrency;
  double request_rate = 0;  // inf when unthrottled
  double burstiness = 1.0;
  std::vector<std::string> percentile_metrics;  // subset of ttft, tpot, itl, e2el, in any order
  std::vector<double> percentiles;              // e.g. {99}
};

// Python's repr of a float (str(4.0) == "4.0", "inf"), as vLLM prints rates and names files.
std::string PythonFloat(double v);

// "Traffic request rate: ...", "Burstiness factor: ...", "Maximum request concurrency: ..." lines
// printed before the run.
std::string FormatServePreamble(const ServeReport& report);

// The table from "==== Serving Benchmark Result ====" to the closing 50 '='.
std::string FormatServeTable(const ServeReport& report);

// What vLLM's benchmark() returns: counts, throughputs, per-metric mean/median/std/p* (selected metrics
// only), spec_decode_* when measured, and the per-request lists (input_lens, output_lens, ttfts, itls,
// start_times, generated_texts, errors) that main() keeps only with --save-detailed.
nlohmann::ordered_json ServeResultJson(const ServeReport& report, const std::vector<RequestOutput>& outputs,
                                       bool detailed);

// `{label}-{rate}qps[-concurrency{c}]-{model basename}-{YYYYmmdd-HHMMSS}.json`
std::string ServeResultFileName(const std::string& label, double request_rate, std::optional<int> max_concurrency,
                                const std::string& model_id, const std::string& date);

}  // namespace sieve::clients
