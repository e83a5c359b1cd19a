#include "server/metrics.h"

#include <gtest/gtest.h>

namespace sieve::server {
namespace {

TEST(Histogram, CumulativeBucketsSumAndCount) {
  Histogram h({0.1, 1.0});
  h.Observe(0.05);
  h.Observe(0.5);
  h.Observe(5.0);
  const std::string text = h.Render("x", "help", "model_name=\"m\"");
  EXPECT_NE(text.find("x_bucket{model_name=\"m\",le=\"0.1\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("x_bucket{model_name=\"m\",le=\"1\"} 2\n"), std::string::npos) << text;
  EXPECT_NE(text.find("x_bucket{model_name=\"m\",le=\"+Inf\"} 3\n"), std::string::npos) << text;
  EXPECT_NE(text.find("x_sum{model_name=\"m\"} 5.55\n"), std::string::npos) << text;
  EXPECT_NE(text.find("x_count{model_name=\"m\"} 3\n"), std::string::npos) << text;
}

TEST(ServerMetrics, VllmNamesFromStatsAndFinishedRequests) {
  ServerMetrics m("tiny");
  m.RecordFinished({"stop", 0.02, 0.5, 10, 5});
  m.RecordFinished({"length", 0.03, 0.7, 10, 8});
  engine::EngineStats s;
  s.num_running = 3;
  s.num_waiting = 2;
  s.kv_blocks_total = 8;
  s.kv_blocks_used = 2;
  s.generation_tokens_total = 13;
  const std::string text = m.Render(s);
  EXPECT_NE(text.find("vllm:num_requests_running{model_name=\"tiny\"} 3\n"), std::string::npos);
  EXPECT_NE(text.find("vllm:num_requests_waiting{model_name=\"tiny\"} 2\n"), std::string::npos);
  EXPECT_NE(text.find("vllm:kv_cache_usage_perc{model_name=\"tiny\"} 0.25\n"), std::string::npos);
  EXPECT_NE(text.find("vllm:generation_tokens_total{model_name=\"tiny\"} 13\n"), std::string::npos);
  EXPECT_NE(text.find("vllm:request_success_total{model_name=\"tiny\",finished_reason=\"stop\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("vllm:request_success_total{model_name=\"tiny\",finished_reason=\"length\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("vllm:time_to_first_token_seconds_count{model_name=\"tiny\"} 2\n"), std::string::npos);
  EXPECT_EQ(text.find("vllm:num_requests_running{model_name=\"tiny\"} 0\n"), std::string::npos);  // negative control
}

TEST(ServerMetrics, SpecDecodeCountersOnlyWhenSpeculating) {
  ServerMetrics m("tiny");
  engine::EngineStats s;
  EXPECT_EQ(m.Render(s).find("spec_decode"), std::string::npos);
  s.spec_num_drafts = 10;
  s.spec_num_draft_tokens = 20;
  s.spec_num_accepted_tokens = 13;
  s.spec_accepted_per_pos = {8, 5};
  const std::string text = m.Render(s);
  EXPECT_NE(text.find("vllm:spec_decode_num_drafts_total{model_name=\"tiny\"} 10\n"), std::string::npos) << text;
  EXPECT_NE(text.find("vllm:spec_decode_num_draft_tokens_total{model_name=\"tiny\"} 20\n"), std::string::npos);
  EXPECT_NE(text.find("vllm:spec_decode_num_accepted_tokens_total{model_name=\"tiny\"} 13\n"), std::string::npos);
  EXPECT_NE(text.find("vllm:spec_decode_num_accepted_tokens_per_pos_total{model_name=\"tiny\",position=\"1\"} 5\n"),
            std::string::npos);
}

}  // namespace
}  // namespace sieve::server
