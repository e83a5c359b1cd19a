// `sieve bench latency` and `sieve bench throughput` on the tiny-dsv32-a fixture: vLLM's output lines and
// JSON keys with counts that follow from the flags, Sieve's roofline lines, and usage errors exiting 2.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>

#include "tests/test_support.h"

namespace sieve::model {
namespace {

nlohmann::json ReadJson(const std::string& path) {
  std::ifstream f(path);
  return nlohmann::json::parse(f, nullptr, false);
}

TEST(BenchCli, LatencyPrintsVllmLinesAndRoofline) {
  auto fx = test::SharedFixture("tiny-dsv32-a");
  if (!fx) GTEST_SKIP() << "../shared/fixtures/tiny-dsv32-a not present; test skipped";
  test::TempDir dir;
  const std::string json = dir.path() + "/latency.json";
  std::string out;
  const int rc = test::RunCommand(test::SieveBinary() + " bench latency --model " + *fx +
                                      "/checkpoint --input-len 8 --output-len 4 --batch-size 2 --num-iters-warmup 1 "
                                      "--num-iters 3 --threads 2 --probe-mib 16 --output-json " + json,
                                  &out);
  ASSERT_EQ(rc, 0) << out;
  EXPECT_THAT(out, ::testing::ContainsRegex("Avg latency: [0-9.e-]+ seconds")) << out;
  EXPECT_THAT(out, ::testing::ContainsRegex("Std latency: [0-9.e-]+ seconds")) << out;
  for (const char* p : {"10", "25", "50", "75", "90", "99"})
    EXPECT_THAT(out, ::testing::ContainsRegex(std::string(p) + "% percentile latency: [0-9.e-]+ seconds")) << p;
  EXPECT_THAT(out, ::testing::ContainsRegex("Decode: batch 2, .* of the roofline")) << out;
  EXPECT_THAT(out, ::testing::ContainsRegex("Prefill: 2 x 8 tokens, .* of the roofline")) << out;
  const nlohmann::json j = ReadJson(json);
  ASSERT_TRUE(j.is_object());
  ASSERT_EQ(j["latencies"].size(), 3u);  // --num-iters, warm-up excluded
  EXPECT_EQ(j["percentiles"].size(), 6u);
  EXPECT_GT(j["avg_latency"].get<double>(), 0.0);
  EXPECT_GT(j["read_bandwidth_bytes_per_s"].get<double>(), 0.0);
}

TEST(BenchCli, ThroughputCountsTokensFromTheFlags) {
  auto fx = test::SharedFixture("tiny-dsv32-a");
  if (!fx) GTEST_SKIP() << "../shared/fixtures/tiny-dsv32-a not present; test skipped";
  test::TempDir dir;
  const std::string json = dir.path() + "/throughput.json";
  std::string out;
  const int rc = test::RunCommand(test::SieveBinary() + " bench throughput --model " + *fx +
                                      "/checkpoint --input-len 8 --output-len 4 --num-prompts 3 --max-num-seqs 2 "
                                      "--threads 2 --probe-mib 16 --output-json " + json,
                                  &out);
  ASSERT_EQ(rc, 0) << out;
  EXPECT_THAT(out, ::testing::ContainsRegex("Throughput: [0-9.]+ requests/s, [0-9.]+ total tokens/s, [0-9.]+ output tokens/s"))
      << out;
  EXPECT_THAT(out, ::testing::ContainsRegex("Roofline: limit .* of the roofline")) << out;
  const nlohmann::json j = ReadJson(json);
  ASSERT_TRUE(j.is_object());
  EXPECT_EQ(j["num_requests"].get<int64_t>(), 3);
  EXPECT_EQ(j["total_num_tokens"].get<int64_t>(), 3 * (8 + 4));
  EXPECT_NEAR(j["requests_per_second"].get<double>(), 3 / j["elapsed_time"].get<double>(), 1e-9);
}

TEST(BenchCli, BadLengthsAreUsageErrors) {
  auto fx = test::SharedFixture("tiny-dsv32-a");
  if (!fx) GTEST_SKIP() << "../shared/fixtures/tiny-dsv32-a not present; test skipped";
  std::string out;
  EXPECT_EQ(test::RunCommand(test::SieveBinary() + " bench latency --model " + *fx + "/checkpoint --input-len 0", &out), 2)
      << out;
  EXPECT_EQ(test::RunCommand(test::SieveBinary() + " bench throughput --model " + *fx + "/checkpoint --num-prompts 0", &out), 2)
      << out;
  // A missing model folder is a runtime error, not a usage error.
  EXPECT_EQ(test::RunCommand(test::SieveBinary() + " bench latency --model /nonexistent --num-iters 1", &out), 1) << out;
}

}  // namespace
}  // namespace sieve::model
