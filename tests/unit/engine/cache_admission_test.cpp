// A KV cache smaller than --max-model-len asks for: a request that can never fit is refused at Submit
// (the server's 400), never queued to wait forever; everything that fits, alone or n > 1 sharing the
// cache, finishes (issue 12, KV exhaustion).
#include <fmt/format.h>
#include <gtest/gtest.h>

#include "engine/engine.h"
#include "tests/unit/engine/engine_test_support.h"

namespace sieve::engine {
namespace {

using test_support::Collector;
using test_support::Greedy;
using test_support::Prompt;
using test_support::SmallOptions;
using test_support::TinyModel;

// 128 tokens of cache (8 blocks of 16) under a requested max_model_len of 256.
constexpr int64_t kCacheTokens = 128;

class CacheAdmissionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    model_ = TinyModel();
    if (!model_) GTEST_SKIP() << "../shared/fixtures/tiny-dsv32-a not present; engine model tests skipped";
    EngineOptions o = SmallOptions(*model_, kCacheTokens);
    ASSERT_EQ(o.max_model_len, 256);
    auto e = Engine::Create(model_, nullptr, o);
    ASSERT_TRUE(e.ok()) << e.status().ToString();
    engine_ = std::move(e).value();
    ASSERT_EQ(engine_->Stats().kv_token_capacity, kCacheTokens);
  }
  std::shared_ptr<model::Model> model_;
  std::unique_ptr<Engine> engine_;
};

TEST_F(CacheAdmissionTest, APromptThatCanNeverFitIsRefusedAtSubmit) {
  // The engine's context is what the cache holds, not what was asked for.
  EXPECT_EQ(engine_->max_model_len(), kCacheTokens);
  Collector collector;
  // 200 tokens: allowed by the requested max_model_len (256), more than the cache can ever hold.
  const Status too_big = engine_->Submit(Greedy("too_big", Prompt(200, 1), 8), collector.Callback());
  EXPECT_EQ(too_big.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(too_big.param(), "prompt");
  EXPECT_NE(too_big.message().find("128 tokens"), std::string::npos) << too_big.message();
  // Exactly the cache: no room for the one generated token.
  EXPECT_EQ(engine_->Submit(Greedy("full", Prompt(kCacheTokens, 2), 1), collector.Callback()).code(),
            StatusCode::kInvalidArgument);
  // Control: one token less fits; a huge max_tokens is cut at the context ("length"), not refused.
  ASSERT_TRUE(engine_->Submit(Greedy("fits", Prompt(kCacheTokens - 1, 3), 100000), collector.Callback()).ok());
  ASSERT_TRUE(collector.WaitFinished(1));
  const test_support::Choice fits = collector.Get("fits");
  EXPECT_EQ(fits.finish_reason, "length");
  EXPECT_EQ(fits.tokens.size(), 1u);
  // The refused requests never got a callback: only "fits" finished.
  EXPECT_FALSE(collector.Get("too_big").finished);
  EXPECT_TRUE(collector.Get("too_big").deltas.empty());
  EXPECT_EQ(engine_->Stats().kv_blocks_used, 0);
}

TEST_F(CacheAdmissionTest, RequestsThatFitOnlyOneAtATimeAllFinish) {
  // Four 100-token prompts, each needing most of the cache: they queue or are preempted, and all finish.
  Collector collector;
  for (int i = 0; i < 4; ++i)
    ASSERT_TRUE(engine_->Submit(Greedy(fmt::format("q{}", i), Prompt(100, 10 + i), 12), collector.Callback()).ok());
  // n = 2 of a 120-token prompt: the forked choice cannot share the cache with its parent's partial
  // block and both decodes; they take turns instead of waiting on each other.
  GenerationRequest pair = Greedy("pair", Prompt(120, 20), 4);
  pair.params.n = 2;
  ASSERT_TRUE(engine_->Submit(pair, collector.Callback()).ok());
  ASSERT_TRUE(collector.WaitFinished(6));
  for (int i = 0; i < 4; ++i) {
    const test_support::Choice c = collector.Get(fmt::format("q{}", i));
    EXPECT_EQ(c.finish_reason, "length") << i;
    EXPECT_EQ(c.tokens.size(), 12u) << i;
  }
  for (int k = 0; k < 2; ++k) {
    EXPECT_EQ(collector.Get("pair", k).finish_reason, "length") << k;
    EXPECT_EQ(collector.Get("pair", k).tokens.size(), 4u) << k;
  }
  EXPECT_EQ(engine_->Stats().kv_blocks_used, 0);
}

}  // namespace
}  // namespace sieve::engine
