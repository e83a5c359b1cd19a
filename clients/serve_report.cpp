// vLLM's result table and JSON; see serve_report.h.
#include "clients/serve_report.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace sieve::clients {
namespace {

// Python: "{:<40} {:<10}" for integers, "{:<40} {:<10.2f}" for floats (values are left-aligned, so each
// row keeps trailing spaces).
void Row(std::string& out, std::string_view label, long value) { out += fmt::format("{:<40} {:<10}\n", label, value); }
void Row(std::string& out, std::string_view label, double value) {
  out += fmt::format("{:<40} {:<10.2f}\n", label, value);
}

// The percentile label: int(p) when whole ("P99"), else str(p) ("P99.9").
std::string PercentileWord(double p) {
  return p == std::floor(p) ? std::to_string(static_cast<long>(p)) : PythonFloat(p);
}

struct MetricNames {
  const char* key;     // "ttft"
  const char* label;   // "TTFT"
  const char* header;  // "Time to First Token"
};
constexpr MetricNames kMetrics[] = {{"ttft", "TTFT", "Time to First Token"},
                                    {"tpot", "TPOT", "Time per Output Token (excl. 1st token)"},
                                    {"itl", "ITL", "Inter-token Latency"},
                                    {"e2el", "E2EL", "End-to-end Latency"}};

const MetricStats& StatsOf(const ServeMetrics& m, std::string_view key) {
  if (key == "ttft") return m.ttft;
  if (key == "tpot") return m.tpot;
  if (key == "itl") return m.itl;
  return m.e2el;
}

bool Selected(const ServeReport& r, std::string_view key) {
  return std::find(r.percentile_metrics.begin(), r.percentile_metrics.end(), key) != r.percentile_metrics.end();
}

}  // namespace

std::string PythonFloat(double v) {
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  if (std::isnan(v)) return "nan";
  std::string s = fmt::format("{}", v);  // shortest round-trip digits, like repr()
  if (s.find_first_of(".e") == std::string::npos) s += ".0";
  return s;
}

std::string FormatServePreamble(const ServeReport& r) {
  return fmt::format("Traffic request rate: {}\nBurstiness factor: {} ({})\nMaximum request concurrency: {}\n",
                     PythonFloat(r.request_rate), PythonFloat(r.burstiness),
                     r.burstiness == 1.0 ? "Poisson process" : "Gamma distribution",
                     r.max_concurrency ? std::to_string(*r.max_concurrency) : "None");
}

std::string FormatServeTable(const ServeReport& r) {
  const ServeMetrics& m = r.metrics;
  std::string out = fmt::format("{:=^50}\n", " Serving Benchmark Result ");
  Row(out, "Successful requests:", static_cast<long>(m.completed));
  Row(out, "Failed requests:", static_cast<long>(m.failed));
  if (r.max_concurrency) Row(out, "Maximum request concurrency:", static_cast<long>(*r.max_concurrency));
  if (!std::isinf(r.request_rate)) Row(out, "Request rate configured (RPS):", r.request_rate);
  Row(out, "Benchmark duration (s):", m.duration_s);
  Row(out, "Total input tokens:", m.total_input);
  Row(out, "Total generated tokens:", m.total_output);
  Row(out, "Request throughput (req/s):", m.request_throughput);
  Row(out, "Output token throughput (tok/s):", m.output_throughput);
  Row(out, "Peak output token throughput (tok/s):", m.max_output_tokens_per_s);
  Row(out, "Peak concurrent requests:", static_cast<double>(m.max_concurrent_requests));
  Row(out, "Total token throughput (tok/s):", m.total_token_throughput);
  for (const MetricNames& names : kMetrics) {
    if (!Selected(r, names.key)) continue;
    const MetricStats& s = StatsOf(m, names.key);
    out += fmt::format("{:-^50}\n", names.header);
    Row(out, fmt::format("Mean {} (ms):", names.label), s.mean_ms);
    Row(out, fmt::format("Median {} (ms):", names.label), s.median_ms);
    for (const auto& [p, value] : s.percentiles_ms)
      Row(out, fmt::format("P{} {} (ms):", PercentileWord(p), names.label), value);
  }
  if (r.spec_decode) {
    const SpecDecodeStats& sd = *r.spec_decode;
    out += fmt::format("{:-^50}\n", "Speculative Decoding");
    Row(out, "Acceptance rate (%):", sd.acceptance_rate);
    Row(out, "Acceptance length:", sd.acceptance_length);
    Row(out, "Drafts:", sd.num_drafts);
    Row(out, "Draft tokens:", sd.draft_tokens);
    Row(out, "Accepted tokens:", sd.accepted_tokens);
    if (!sd.per_position_acceptance_rates.empty()) {
      out += "Per-position acceptance (%):\n";
      for (size_t i = 0; i < sd.per_position_acceptance_rates.size(); ++i) {
        Row(out, fmt::format("  Position {}:", i), sd.per_position_acceptance_rates[i] * 100);
      }
    }
  }
  out += std::string(50, '=') + "\n";
  return out;
}

nlohmann::ordered_json ServeResultJson(const ServeReport& r, const std::vector<RequestOutput>& outputs, bool detailed) {
  const ServeMetrics& m = r.metrics;
  nlohmann::ordered_json j;
  j["duration"] = m.duration_s;
  j["completed"] = m.completed;
  j["failed"] = m.failed;
  j["total_input_tokens"] = m.total_input;
  j["total_output_tokens"] = m.total_output;
  j["request_throughput"] = m.request_throughput;
  j["request_goodput"] = nullptr;  // no --goodput
  j["output_throughput"] = m.output_throughput;
  j["total_token_throughput"] = m.total_token_throughput;
  if (detailed) {
    auto& input_lens = j["input_lens"] = nlohmann::ordered_json::array();
    auto& ttfts = j["ttfts"] = nlohmann::ordered_json::array();
    auto& itls = j["itls"] = nlohmann::ordered_json::array();
    auto& start_times = j["start_times"] = nlohmann::ordered_json::array();
    auto& texts = j["generated_texts"] = nlohmann::ordered_json::array();
    auto& errors = j["errors"] = nlohmann::ordered_json::array();
    j["output_lens"] = m.output_lens;
    for (const RequestOutput& o : outputs) {
      input_lens.push_back(o.prompt_len);
      ttfts.push_back(o.ttft_s);
      itls.push_back(o.itl_s);
      start_times.push_back(o.start_time_s);
      texts.push_back(o.generated_text);
      errors.push_back(o.error);
    }
  }
  j["max_output_tokens_per_s"] = m.max_output_tokens_per_s;
  j["max_concurrent_requests"] = m.max_concurrent_requests;
  j["rtfx"] = 0.0;  // audio only
  if (r.spec_decode) {
    j["spec_decode_acceptance_rate"] = r.spec_decode->acceptance_rate;
    j["spec_decode_acceptance_length"] = r.spec_decode->acceptance_length;
    j["spec_decode_num_drafts"] = r.spec_decode->num_drafts;
    j["spec_decode_draft_tokens"] = r.spec_decode->draft_tokens;
    j["spec_decode_accepted_tokens"] = r.spec_decode->accepted_tokens;
    j["spec_decode_per_position_acceptance_rates"] = r.spec_decode->per_position_acceptance_rates;
  }
  for (const MetricNames& names : kMetrics) {
    if (!Selected(r, names.key)) continue;
    const MetricStats& s = StatsOf(m, names.key);
    j[fmt::format("mean_{}_ms", names.key)] = s.mean_ms;
    j[fmt::format("median_{}_ms", names.key)] = s.median_ms;
    j[fmt::format("std_{}_ms", names.key)] = s.std_ms;
    for (const auto& [p, value] : s.percentiles_ms) j[fmt::format("p{}_{}_ms", PercentileWord(p), names.key)] = value;
  }
  return j;
}

std::string ServeResultFileName(const std::string& label, double request_rate, std::optional<int> max_concurrency,
                                const std::string& model_id, const std::string& date) {
  const std::string base_model = model_id.substr(model_id.rfind('/') + 1);
  return fmt::format("{}-{}qps{}-{}-{}.json", label, PythonFloat(request_rate),
                     max_concurrency ? fmt::format("-concurrency{}", *max_concurrency) : "", base_model, date);
}

}  // namespace sieve::clients
