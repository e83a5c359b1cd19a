// Prometheus text parsing for /metrics deltas: label sets summed, comments skipped, spec decode counters
// absent on a server without speculative decoding.
#include "clients/prometheus_counters.h"

#include <gtest/gtest.h>

namespace sieve::clients {
namespace {

constexpr const char* kExposition =
    "# HELP vllm:prompt_tokens_total Prompt tokens.\n"
    "# TYPE vllm:prompt_tokens_total counter\n"
    "vllm:prompt_tokens_total{model_name=\"a\"} 120.0\n"
    "vllm:prompt_tokens_total{model_name=\"b\"} 3\r\n"
    "vllm:prompt_tokens_total_created 1.7e9\n"
    "vllm:spec_decode_num_drafts_total 10 1700000000\n"
    "vllm:spec_decode_num_draft_tokens_total 30\n"
    "vllm:spec_decode_num_accepted_tokens_total 18\n"
    "vllm:spec_decode_num_accepted_tokens_per_pos_total{position=\"1\"} 7\n"
    "vllm:spec_decode_num_accepted_tokens_per_pos_total{position=\"0\"} 9\n"
    "broken_line_without_value\n";

TEST(PrometheusCounters, SumsLabelSetsOfOneName) {
  EXPECT_EQ(SumCounter(kExposition, "vllm:prompt_tokens_total"), 123.0);
  EXPECT_EQ(SumCounter(kExposition, "vllm:generation_tokens_total"), std::nullopt);
}

TEST(PrometheusCounters, SpecDecodeDeltas) {
  const auto after = ParseSpecDecodeCounters(kExposition);
  ASSERT_TRUE(after.has_value());
  EXPECT_EQ(after->num_drafts, 10);
  EXPECT_EQ(after->accepted_per_position.at(0), 9);
  SpecDecodeCounters before;
  before.num_drafts = 4;
  before.num_draft_tokens = 12;
  before.num_accepted_tokens = 6;
  before.accepted_per_position = {{0, 3}, {1, 1}};
  const auto stats = SpecDecodeDelta(before, after);
  ASSERT_TRUE(stats.has_value());
  EXPECT_EQ(stats->num_drafts, 6);
  EXPECT_EQ(stats->draft_tokens, 18);
  EXPECT_EQ(stats->accepted_tokens, 12);
  EXPECT_DOUBLE_EQ(stats->acceptance_rate, 100.0 * 12 / 18);
  EXPECT_DOUBLE_EQ(stats->acceptance_length, 3.0);
  EXPECT_EQ(stats->per_position_acceptance_rates, (std::vector<double>{1.0, 1.0}));
  // No draft proposed in between, or a server without the counters: no block.
  EXPECT_FALSE(SpecDecodeDelta(after, after).has_value());
  EXPECT_FALSE(ParseSpecDecodeCounters("vllm:prompt_tokens_total 5\n").has_value());
  EXPECT_FALSE(SpecDecodeDelta(std::nullopt, after).has_value());
}

}  // namespace
}  // namespace sieve::clients
