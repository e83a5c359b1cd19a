// Counters read from a server's Prometheus text exposition (GET /metrics), for the before/after deltas of
// `sieve bench serve`: vLLM's speculative-decoding counters (vllm/benchmarks/serve.py
// fetch_spec_decode_metrics, bench-serve.md §6) and the token counters the e2e test compares.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sieve::clients {

// Sum over all label sets of every sample named `name` in Prometheus text format; nullopt when absent.
std::optional<double> SumCounter(std::string_view exposition, std::string_view name);

// vLLM's counters, as cumulative totals.
struct SpecDecodeCounters {
  double num_drafts = 0, num_draft_tokens = 0, num_accepted_tokens = 0;
  std::map<int, double> accepted_per_position;  // label position="k" of ..._per_pos_total
};
// nullopt unless the exposition has vllm:spec_decode_num_drafts_total (the server does no spec decode).
std::optional<SpecDecodeCounters> ParseSpecDecodeCounters(std::string_view exposition);

// The "Speculative Decoding" block of the result: deltas over the run.
struct SpecDecodeStats {
  long num_drafts = 0, draft_tokens = 0, accepted_tokens = 0;
  double acceptance_rate = 0;                         // accepted / draft tokens, in %
  double acceptance_length = 0;                       // 1 + accepted / drafts (the bonus token counts)
  std::vector<double> per_position_acceptance_rates;  // accepted at position k / drafts
};
// nullopt when either snapshot is missing or no draft token was proposed in between (vLLM prints nothing then).
std::optional<SpecDecodeStats> SpecDecodeDelta(const std::optional<SpecDecodeCounters>& before,
                                               const std::optional<SpecDecodeCounters>& after);

}  // namespace sieve::clients
