// The request loop of `sieve bench serve`, as vLLM's benchmark() runs it (vllm/benchmarks/serve.py @
// 009e6d4a, bench-serve.md §3-4): one test request that must succeed, optional warmups, a /metrics
// snapshot, then every request sent at its precomputed arrival time, each waiting for a
// --max-concurrency slot, streamed with a timestamp per chunk. A request that fails (no connection,
// HTTP error, timeout, truncated stream) is recorded with its error text; it never stops the run.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "clients/prometheus_counters.h"
#include "clients/random_dataset.h"
#include "clients/request_timing.h"
#include "core/status.h"

namespace sieve::clients {

struct ServeBenchmarkOptions {
  std::string origin;        // "http://127.0.0.1:8000"
  std::string api_path;      // the POST path, e.g. "/v1/completions"
  std::string metrics_path;  // the Prometheus path, e.g. "/metrics"
  std::string model;         // sent as "model"
  bool chat = false;         // /v1/chat/completions body (vLLM's openai-chat backend)
  bool ignore_eos = true;
  double request_rate = 0;  // requests/s; inf sends everything at t = 0
  double burstiness = 1.0;
  std::optional<int> max_concurrency;
  int num_warmups = 0;
  uint64_t seed = 0;
  double timeout_s = 6 * 3600;    // per connect/read; vLLM's aiohttp session allows 6 h
  std::string request_id_prefix;  // x-request-id = prefix + index
};

// The request body vLLM's backend sends for one prompt (endpoint_request_func.py, openai-clients.md §4).
std::string BenchRequestBody(const ServeBenchmarkOptions& options, const BenchRequest& request);

struct ServeBenchmarkRun {
  std::vector<RequestOutput> outputs;  // in request order
  double duration_s = 0;               // first send to last completion, warmup excluded
  std::optional<SpecDecodeStats> spec_decode;
};

// Called from request threads after each measured request (done, total), serialized.
using ProgressFn = std::function<void(size_t done, size_t total)>;

// Fails (Unavailable) only when the initial test request fails: unreachable server, wrong model name.
StatusOr<ServeBenchmarkRun> RunServeBenchmark(const ServeBenchmarkOptions& options,
                                              const std::vector<BenchRequest>& requests,
                                              const ProgressFn& on_done = nullptr);

}  // namespace sieve::clients
