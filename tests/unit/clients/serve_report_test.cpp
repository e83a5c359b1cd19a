// vLLM's printed result and JSON for a scripted run: the table compared byte for byte with text produced by
// Python's own str.format on the same numbers (rows keep their trailing spaces), the JSON keys, the file name.
#include "clients/serve_report.h"

#include <gtest/gtest.h>

namespace sieve::clients {
namespace {

// Two successful requests and one failure; the hand-computed metrics are in the expected table.
std::vector<RequestOutput> ScriptedOutputs() {
  RequestOutput a, b, failed;
  a.success = true;
  a.start_time_s = 0;
  a.ttft_s = 0.1;
  a.itl_s = {0.05, 0.05};
  a.latency_s = 0.2;
  a.output_tokens = 3;
  a.prompt_len = 10;
  b.success = true;
  b.start_time_s = 0.5;
  b.ttft_s = 0.2;
  b.itl_s = {0.1};
  b.latency_s = 0.3;
  b.output_tokens = 2;
  b.prompt_len = 12;
  failed.error = "HTTP 500: boom";
  return {a, b, failed};
}

ServeReport ScriptedReport() {
  ServeReport r;
  r.max_concurrency = 4;
  r.request_rate = 2.0;
  r.percentile_metrics = {"ttft", "tpot", "itl", "e2el"};
  r.percentiles = {99};
  r.metrics = CalculateServeMetrics(ScriptedOutputs(), /*duration_s=*/2.0, r.percentiles, true, true);
  SpecDecodeStats sd;
  sd.num_drafts = 8;
  sd.draft_tokens = 16;
  sd.accepted_tokens = 12;
  sd.acceptance_rate = 75;
  sd.acceptance_length = 2.5;
  sd.per_position_acceptance_rates = {1.0, 0.5};
  r.spec_decode = sd;
  return r;
}

// Printed by Python 3 with vLLM's format strings ("{:<40} {:<10}", "{:<40} {:<10.2f}", "{:=^50}", "{:-^50}").
constexpr const char* kExpectedTable =
    "============ Serving Benchmark Result ============\n"
    "Successful requests:                     2         \n"
    "Failed requests:                         1         \n"
    "Maximum request concurrency:             4         \n"
    "Request rate configured (RPS):           2.00      \n"
    "Benchmark duration (s):                  2.00      \n"
    "Total input tokens:                      22        \n"
    "Total generated tokens:                  5         \n"
    "Request throughput (req/s):              1.00      \n"
    "Output token throughput (tok/s):         2.50      \n"
    "Peak output token throughput (tok/s):    5.00      \n"
    "Peak concurrent requests:                1.00      \n"
    "Total token throughput (tok/s):          13.50     \n"
    "---------------Time to First Token----------------\n"
    "Mean TTFT (ms):                          150.00    \n"
    "Median TTFT (ms):                        150.00    \n"
    "P99 TTFT (ms):                           199.00    \n"
    "-----Time per Output Token (excl. 1st token)------\n"
    "Mean TPOT (ms):                          75.00     \n"
    "Median TPOT (ms):                        75.00     \n"
    "P99 TPOT (ms):                           99.50     \n"
    "---------------Inter-token Latency----------------\n"
    "Mean ITL (ms):                           66.67     \n"
    "Median ITL (ms):                         50.00     \n"
    "P99 ITL (ms):                            99.00     \n"
    "----------------End-to-end Latency----------------\n"
    "Mean E2EL (ms):                          250.00    \n"
    "Median E2EL (ms):                        250.00    \n"
    "P99 E2EL (ms):                           299.00    \n"
    "---------------Speculative Decoding---------------\n"
    "Acceptance rate (%):                     75.00     \n"
    "Acceptance length:                       2.50      \n"
    "Drafts:                                  8         \n"
    "Draft tokens:                            16        \n"
    "Accepted tokens:                         12        \n"
    "Per-position acceptance (%):\n"
    "  Position 0:                            100.00    \n"
    "  Position 1:                            50.00     \n"
    "==================================================\n";

TEST(ServeReport, TableIsByteExact) {
  const ServeReport r = ScriptedReport();
  EXPECT_EQ(FormatServePreamble(r),
            "Traffic request rate: 2.0\nBurstiness factor: 1.0 (Poisson process)\nMaximum request concurrency: 4\n");
  EXPECT_EQ(FormatServeTable(r), kExpectedTable);
}

TEST(ServeReport, OptionalRowsAndBlocksFollowTheFlags) {
  ServeReport r = ScriptedReport();
  r.max_concurrency.reset();
  r.request_rate = INFINITY;
  r.spec_decode.reset();
  r.percentile_metrics = {"ttft", "tpot", "itl"};  // vLLM's default: no E2EL block
  r.percentiles = {50, 99.9};
  r.metrics = CalculateServeMetrics(ScriptedOutputs(), 2.0, r.percentiles, false, false);
  const std::string table = FormatServeTable(r);
  EXPECT_EQ(table.find("Maximum request concurrency"), std::string::npos);
  EXPECT_EQ(table.find("Request rate configured"), std::string::npos);
  EXPECT_EQ(table.find("E2EL"), std::string::npos);
  EXPECT_EQ(table.find("Speculative"), std::string::npos);
  EXPECT_NE(table.find("P50 TTFT (ms):                           150.00    \n"), std::string::npos);
  EXPECT_NE(table.find("P99.9 ITL (ms):"), std::string::npos);
  EXPECT_EQ(FormatServePreamble(r),
            "Traffic request rate: inf\nBurstiness factor: 1.0 (Poisson process)\nMaximum request concurrency: None\n");
}

TEST(ServeReport, JsonHasVllmKeys) {
  const ServeReport r = ScriptedReport();
  const auto j = ServeResultJson(r, ScriptedOutputs(), /*detailed=*/false);
  for (const char* key : {"duration", "completed", "failed", "total_input_tokens", "total_output_tokens",
                          "request_throughput", "request_goodput", "output_throughput", "total_token_throughput",
                          "max_output_tokens_per_s", "max_concurrent_requests", "rtfx", "mean_ttft_ms",
                          "median_ttft_ms", "std_ttft_ms", "p99_ttft_ms", "mean_tpot_ms", "p99_itl_ms",
                          "p99_e2el_ms", "spec_decode_acceptance_rate", "spec_decode_acceptance_length",
                          "spec_decode_num_drafts", "spec_decode_draft_tokens", "spec_decode_accepted_tokens",
                          "spec_decode_per_position_acceptance_rates"}) {
    EXPECT_TRUE(j.contains(key)) << key;
  }
  EXPECT_EQ(j["completed"], 2);
  EXPECT_EQ(j["total_output_tokens"], 5);
  EXPECT_TRUE(j["request_goodput"].is_null());
  EXPECT_NEAR(j["std_ttft_ms"].get<double>(), 50.0, 1e-9);  // population std of {100, 200}
  EXPECT_FALSE(j.contains("errors"));  // per-request lists only with --save-detailed
  const auto detailed = ServeResultJson(r, ScriptedOutputs(), true);
  EXPECT_EQ(detailed["errors"][2], "HTTP 500: boom");
  EXPECT_EQ(detailed["output_lens"], (std::vector<int>{3, 2, 0}));
  EXPECT_EQ(detailed["itls"][0].size(), 2u);
}

TEST(ServeReport, FileNameAndPythonFloats) {
  EXPECT_EQ(ServeResultFileName("openai", INFINITY, std::nullopt, "deepseek-ai/DeepSeek-V3.2", "20260101-120000"),
            "openai-infqps-DeepSeek-V3.2-20260101-120000.json");
  EXPECT_EQ(ServeResultFileName("run1", 4, 16, "tiny", "20260101-120000"),
            "run1-4.0qps-concurrency16-tiny-20260101-120000.json");
  EXPECT_EQ(PythonFloat(0.5), "0.5");
  EXPECT_EQ(PythonFloat(1e-05), "1e-05");
}

}  // namespace
}  // namespace sieve::clients
