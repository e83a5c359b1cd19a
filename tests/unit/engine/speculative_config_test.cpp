// The speculative-decoding flags: vLLM's JSON and SGLang's four flags resolve to K; bad combinations
// are InvalidArgument naming the flag.
#include "engine/speculative_config.h"

#include <gtest/gtest.h>

#include <CLI/CLI.hpp>

#include "engine/engine_flags.h"

namespace sieve::engine {
namespace {

StatusOr<int> Parse(std::vector<std::string> args) {
  CLI::App app;
  EngineOptions o;
  AddEngineFlags(app, &o);
  std::reverse(args.begin(), args.end());
  app.parse(args);
  return ResolveNumSpeculativeTokens(o);
}

void ExpectError(std::vector<std::string> args, const std::string& fragment) {
  auto k = Parse(std::move(args));
  ASSERT_FALSE(k.ok());
  EXPECT_EQ(k.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(k.status().message().find(fragment), std::string::npos) << k.status().message();
}

TEST(SpeculativeConfigTest, OffWithoutFlags) { EXPECT_EQ(*Parse({}), 0); }

TEST(SpeculativeConfigTest, VllmJson) {
  EXPECT_EQ(*Parse({"--speculative-config", R"({"method":"deepseek_mtp","num_speculative_tokens":3})"}), 3);
  EXPECT_EQ(*Parse({"--speculative-config", R"({"method":"mtp","num_speculative_tokens":1})"}), 1);
  ExpectError({"--speculative-config", R"({"method":"eagle","num_speculative_tokens":2})"}, "deepseek_mtp");
  ExpectError({"--speculative-config", R"({"method":"deepseek_mtp"})"}, "num_speculative_tokens");
  ExpectError({"--speculative-config", R"({"method":"deepseek_mtp","num_speculative_tokens":0})"}, "[1, 16]");
  ExpectError({"--speculative-config", R"({"method":"deepseek_mtp","num_speculative_tokens":17})"}, "[1, 16]");
  ExpectError({"--speculative-config", R"({"method":"deepseek_mtp","num_speculative_tokens":4294967298})"}, "[1, 16]");
  ExpectError({"--speculative-config", R"({"method":"deepseek_mtp","num_speculative_tokens":2,"model":"x"})"}, "model");
  ExpectError({"--speculative-config", "{not json"}, "JSON object");
}

TEST(SpeculativeConfigTest, SglangFlags) {
  EXPECT_EQ(*Parse({"--speculative-algorithm", "EAGLE", "--speculative-num-steps", "3", "--speculative-eagle-topk",
                    "1", "--speculative-num-draft-tokens", "4"}),
            3);
  EXPECT_EQ(*Parse({"--speculative-algorithm", "NEXTN", "--speculative-num-steps", "2"}), 2);
  ExpectError({"--speculative-algorithm", "EAGLE", "--speculative-num-steps", "3", "--speculative-eagle-topk", "4"},
              "--speculative-eagle-topk must be 1");
  ExpectError({"--speculative-algorithm", "EAGLE", "--speculative-num-steps", "3", "--speculative-num-draft-tokens",
               "8"},
              "--speculative-num-draft-tokens");
  ExpectError({"--speculative-algorithm", "EAGLE"}, "--speculative-num-steps must be in [1, 16]");
  ExpectError({"--speculative-algorithm", "MEDUSA", "--speculative-num-steps", "2"}, "EAGLE");
  ExpectError({"--speculative-num-steps", "2"}, "need --speculative-algorithm");
  ExpectError({"--speculative-algorithm", "EAGLE", "--speculative-num-steps", "2", "--speculative-config",
               R"({"method":"deepseek_mtp","num_speculative_tokens":2})"},
              "not both");
}

}  // namespace
}  // namespace sieve::engine
