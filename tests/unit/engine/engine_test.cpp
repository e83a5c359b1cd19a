// Engine on the tiny-dsv32-a fixture: greedy outputs do not depend on batching, prefix caching or
// preemption; seeded sampling reproduces; n > 1, abort, statistics and request validation.
#include "engine/engine.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <future>
#include <random>
#include <set>
#include <utility>

#include "tests/unit/engine/engine_test_support.h"

namespace sieve::engine {
namespace {

using test_support::Choice;
using test_support::Collector;
using test_support::Greedy;
using test_support::Prompt;
using test_support::SmallOptions;
using test_support::TinyModel;

class EngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    model_ = TinyModel();
    if (!model_) GTEST_SKIP() << "../shared/fixtures/tiny-dsv32-a not present; engine model tests skipped";
  }
  std::unique_ptr<Engine> MakeEngine(const EngineOptions& options) {
    auto e = Engine::Create(model_, nullptr, options);
    EXPECT_TRUE(e.ok()) << e.status().ToString();
    return e.ok() ? std::move(e).value() : nullptr;
  }
  // Runs requests on a fresh engine and returns every choice, keyed by request id (choice 0).
  std::map<std::string, Choice> RunAll(const EngineOptions& options, std::vector<GenerationRequest> requests) {
    auto engine = MakeEngine(options);
    Collector collector;
    int choices = 0;
    std::vector<std::string> ids;
    for (auto& r : requests) {
      choices += r.params.n;
      ids.push_back(r.request_id);
      EXPECT_TRUE(engine->Submit(std::move(r), collector.Callback()).ok());
    }
    EXPECT_TRUE(collector.WaitFinished(choices));
    last_stats_ = engine->Stats();
    std::map<std::string, Choice> out;
    for (const std::string& id : ids) out[id] = collector.Get(id);
    return out;
  }
  std::vector<int32_t> Alone(const GenerationRequest& r) {
    return RunAll(SmallOptions(*model_, 4096), {r})[r.request_id].tokens;
  }

  std::shared_ptr<model::Model> model_;
  EngineStats last_stats_;
};

TEST_F(EngineTest, GreedyAloneEqualsInABatchOf32MixedLengths) {
  std::vector<GenerationRequest> batch;
  for (int i = 0; i < 32; ++i) batch.push_back(Greedy(fmt::format("r{}", i), Prompt(3 + (i * 37) % 90, i), 4 + i % 5));
  auto together = RunAll(SmallOptions(*model_, 8192), batch);
  EXPECT_EQ(last_stats_.kv_blocks_used, 0);
  for (int i : {0, 7, 21, 31}) {
    const auto& r = batch[i];
    EXPECT_EQ(together[r.request_id].tokens, Alone(r)) << r.request_id;
    EXPECT_EQ(together[r.request_id].finish_reason, "length");
  }
  // Negative control: different prompts give different outputs, so the comparison can fail.
  EXPECT_NE(together["r0"].tokens, together["r7"].tokens);
}

TEST_F(EngineTest, GreedyAfterPrefixCacheHitIsUnchanged) {
  auto engine = MakeEngine(SmallOptions(*model_, 4096));
  Collector collector;
  const std::vector<int32_t> prompt = Prompt(45, 3);
  ASSERT_TRUE(engine->Submit(Greedy("first", prompt, 6), collector.Callback()).ok());
  ASSERT_TRUE(collector.WaitFinished(1));
  ASSERT_TRUE(engine->Submit(Greedy("second", prompt, 6), collector.Callback()).ok());
  ASSERT_TRUE(collector.WaitFinished(2));
  const Choice first = collector.Get("first"), second = collector.Get("second");
  EXPECT_EQ(first.num_cached_prompt_tokens, 0);
  EXPECT_EQ(second.num_cached_prompt_tokens, 32);  // two full 16-token blocks
  EXPECT_EQ(first.tokens, second.tokens);
  EXPECT_EQ(engine->Stats().prefix_cache_hits, 32);
}

TEST_F(EngineTest, NoPrefixCacheHitWhenDisabled) {
  EngineOptions o = SmallOptions(*model_, 4096);
  o.enable_prefix_caching = false;
  auto engine = MakeEngine(o);
  Collector collector;
  for (const char* id : {"a", "b"}) {
    ASSERT_TRUE(engine->Submit(Greedy(id, Prompt(45, 3), 2), collector.Callback()).ok());
    ASSERT_TRUE(collector.WaitFinished(id[0] == 'a' ? 1 : 2));
  }
  EXPECT_EQ(collector.Get("b").num_cached_prompt_tokens, 0);
}

TEST_F(EngineTest, GreedyAfterPreemptionAndResumeIsUnchanged) {
  // 10 blocks of 16 tokens for four requests that each grow to 4 blocks: preemption is certain.
  std::vector<GenerationRequest> batch;
  for (int i = 0; i < 4; ++i) batch.push_back(Greedy(fmt::format("p{}", i), Prompt(20 + 7 * i, 10 + i), 30));
  EngineOptions o = SmallOptions(*model_, 160);
  o.max_model_len = 160;
  auto squeezed = RunAll(o, batch);
  EXPECT_GT(last_stats_.num_preemptions_total, 0);
  EXPECT_EQ(last_stats_.kv_blocks_used, 0);
  for (const auto& r : batch) EXPECT_EQ(squeezed[r.request_id].tokens, Alone(r)) << r.request_id;
}

// Random lengths, n and sampling settings with aborts from the submitting thread, on a cache of 8 blocks:
// every choice ends exactly once (finished or aborted) and no block stays in use.
TEST_F(EngineTest, RandomizedLoadWithAbortsEndsCleanly) {
  std::mt19937 rng(6);
  EngineOptions o = SmallOptions(*model_, 128);
  o.max_model_len = 128;
  o.max_num_batched_tokens = 48;
  auto engine = MakeEngine(o);
  Collector collector;
  int choices = 0;
  for (int i = 0; i < 16; ++i) {
    GenerationRequest r{fmt::format("q{}", i), Prompt(1 + rng() % 40, i), {}};
    r.params.n = 1 + (rng() % 4 == 0 ? 1 : 0);
    r.params.temperature = rng() % 2 ? 0.0 : 0.8;
    r.params.max_tokens = 1 + rng() % 40;
    r.params.seed = i;
    choices += r.params.n;
    ASSERT_TRUE(engine->Submit(r, collector.Callback()).ok());
    if (rng() % 4 == 0) engine->Abort(fmt::format("q{}", rng() % (i + 1)));
  }
  ASSERT_TRUE(collector.WaitFinished(choices));
  const EngineStats s = engine->Stats();
  EXPECT_EQ(s.kv_blocks_used, 0);
  EXPECT_EQ(s.num_running + s.num_waiting, 0);
  for (int i = 0; i < 16; ++i) {
    const Choice c = collector.Get(fmt::format("q{}", i));
    EXPECT_TRUE(c.finished);
    EXPECT_EQ(c.updates_after_finish, 0);
    EXPECT_TRUE(c.finish_reason == "length" || c.finish_reason == "stop" || c.finish_reason == "abort")
        << c.finish_reason;
  }
}

TEST_F(EngineTest, ChunkedPrefillGivesTheSameTokens) {
  EngineOptions o = SmallOptions(*model_, 4096);
  o.max_num_batched_tokens = 8;  // a 70-token prompt in 9 chunks
  const GenerationRequest r = Greedy("long", Prompt(70, 5), 5);
  EXPECT_EQ(RunAll(o, {r})["long"].tokens, Alone(r));
}

TEST_F(EngineTest, SeededSamplingReproducesWhateverElseIsInTheBatch) {
  GenerationRequest r{"seeded", Prompt(12, 8), {}};
  r.params.temperature = 1.0;
  r.params.top_p = 0.95;
  r.params.seed = 99;
  r.params.max_tokens = 12;
  r.params.ignore_eos = true;
  const std::vector<int32_t> alone = RunAll(SmallOptions(*model_, 4096), {r})["seeded"].tokens;
  std::vector<GenerationRequest> batch = {r};
  for (int i = 0; i < 6; ++i) {
    GenerationRequest other{fmt::format("o{}", i), Prompt(5 + i * 9, 20 + i), {}};
    other.params.temperature = 0.7;
    other.params.max_tokens = 3 + i;
    batch.push_back(other);
  }
  EXPECT_EQ(RunAll(SmallOptions(*model_, 4096), batch)["seeded"].tokens, alone);
  r.params.seed = 100;  // negative control
  EXPECT_NE(RunAll(SmallOptions(*model_, 4096), {r})["seeded"].tokens, alone);
}

TEST_F(EngineTest, ChoicesShareThePromptAndEachReproduces) {
  GenerationRequest r{"n4", Prompt(37, 2), {}};
  r.params.n = 4;
  r.params.temperature = 1.2;
  r.params.seed = 7;
  r.params.max_tokens = 10;
  r.params.ignore_eos = true;
  auto engine = MakeEngine(SmallOptions(*model_, 4096));
  Collector collector;
  ASSERT_TRUE(engine->Submit(r, collector.Callback()).ok());
  ASSERT_TRUE(collector.WaitFinished(4));
  // The prompt was prefilled once: 37 prompt tokens looked up and computed, not 4 x 37.
  EXPECT_EQ(engine->Stats().prefix_cache_queries, 37);
  std::set<std::vector<int32_t>> distinct;
  for (int i = 0; i < 4; ++i) {
    Choice c = collector.Get("n4", i);
    EXPECT_EQ(c.tokens.size(), 10u);
    EXPECT_EQ(c.updates_after_finish, 0);
    distinct.insert(c.tokens);
  }
  EXPECT_EQ(distinct.size(), 4u);
  // Each choice reproduces on a fresh engine.
  Collector again;
  auto engine2 = MakeEngine(SmallOptions(*model_, 4096));
  ASSERT_TRUE(engine2->Submit(r, again.Callback()).ok());
  ASSERT_TRUE(again.WaitFinished(4));
  for (int i = 0; i < 4; ++i) EXPECT_EQ(again.Get("n4", i).tokens, collector.Get("n4", i).tokens);
}

TEST_F(EngineTest, AbortEndsTheRequestAndFreesItsBlocks) {
  auto engine = MakeEngine(SmallOptions(*model_, 4096));
  Collector collector;
  // The first update holds the engine thread until the abort is queued, so the abort always lands
  // while the request is running.
  std::promise<void> first_update, release;
  std::shared_future<void> released = release.get_future().share();
  bool first = true;  // engine thread only
  auto inner = collector.Callback();
  ASSERT_TRUE(engine->Submit(Greedy("long", Prompt(30, 1), 200), [&](const RequestOutput& o) {
    inner(o);
    if (!std::exchange(first, false)) return;
    first_update.set_value();
    released.wait();
  }).ok());
  first_update.get_future().wait();
  engine->Abort("long");
  release.set_value();
  ASSERT_TRUE(collector.WaitFinished(1));
  const Choice c = collector.Get("long");
  EXPECT_EQ(c.finish_reason, "abort");
  EXPECT_LT(c.tokens.size(), 200u);
  // Stats are published before the callbacks run, so they already show every block free.
  EngineStats s = engine->Stats();
  EXPECT_EQ(s.kv_blocks_used, 0);
  EXPECT_EQ(s.num_running + s.num_waiting, 0);
  // The id is free again.
  ASSERT_TRUE(engine->Submit(Greedy("long", Prompt(4, 1), 1), collector.Callback()).ok());
  EXPECT_TRUE(collector.WaitFinished(2));
}

// Every request gets a final update, whether it finished before the shutdown or was aborted by it.
TEST_F(EngineTest, ShutdownEndsEveryRequest) {
  auto engine = MakeEngine(SmallOptions(*model_, 4096));
  Collector collector;
  for (int i = 0; i < 3; ++i)
    ASSERT_TRUE(engine->Submit(Greedy(fmt::format("s{}", i), Prompt(10, i), 250 - 10), collector.Callback()).ok());
  engine->Shutdown();
  ASSERT_TRUE(collector.WaitFinished(3));
  for (int i = 0; i < 3; ++i) {
    const Choice c = collector.Get(fmt::format("s{}", i));
    EXPECT_TRUE(c.finish_reason == "abort" || c.finish_reason == "length") << c.finish_reason;
    EXPECT_EQ(c.updates_after_finish, 0);
  }
  EXPECT_EQ(engine->Stats().kv_blocks_used, 0);
  EXPECT_EQ(engine->Submit(Greedy("late", Prompt(3, 0), 1), collector.Callback()).code(), StatusCode::kUnavailable);
}

TEST_F(EngineTest, PromptLogprobsAndLogprobs) {
  GenerationRequest r = Greedy("lp", Prompt(20, 4), 3);
  r.params.logprobs = 3;
  r.params.prompt_logprobs = 2;
  auto out = RunAll(SmallOptions(*model_, 4096), {r})["lp"];
  ASSERT_EQ(out.prompt_logprobs.size(), 20u);
  EXPECT_FALSE(out.prompt_logprobs[0].has_value());
  for (int i = 1; i < 20; ++i) {
    ASSERT_TRUE(out.prompt_logprobs[i].has_value()) << i;
    EXPECT_EQ(out.prompt_logprobs[i]->token_id, r.prompt_ids[i]);
    EXPECT_LE(out.prompt_logprobs[i]->logprob, 0.0f);
    EXPECT_EQ(out.prompt_logprobs[i]->top.size(), 2u);
  }
  ASSERT_EQ(out.logprobs.size(), 3u);
  for (const TokenLogprob& lp : out.logprobs) {
    ASSERT_EQ(lp.top.size(), 3u);
    EXPECT_EQ(lp.top[0].first, lp.token_id);  // greedy: the sampled token is the most likely
    EXPECT_FLOAT_EQ(lp.top[0].second, lp.logprob);
  }
}

TEST_F(EngineTest, SubmitRejectsInvalidRequests) {
  auto engine = MakeEngine(SmallOptions(*model_, 4096));
  Collector collector;
  auto param_of = [&](GenerationRequest r) {
    Status s = engine->Submit(std::move(r), collector.Callback());
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
    return s.param();
  };
  EXPECT_EQ(param_of(Greedy("long", Prompt(256, 0), 1)), "prompt");  // max_model_len 256
  EXPECT_EQ(param_of(Greedy("oov", {5, 2048}, 1)), "prompt");       // vocab 2048
  GenerationRequest stop = Greedy("stop", Prompt(4, 0), 1);
  stop.params.stop = {"x"};
  EXPECT_EQ(param_of(stop), "stop");                                 // no tokenizer
  GenerationRequest temp = Greedy("t", Prompt(4, 0), 1);
  temp.params.temperature = -1;
  EXPECT_EQ(param_of(temp), "temperature");
  GenerationRequest bias = Greedy("b", Prompt(4, 0), 1);
  bias.params.logit_bias[4096] = 1;
  EXPECT_EQ(param_of(bias), "logit_bias");
  // A live request's id cannot be reused (its first update holds the engine thread, so it is live).
  std::promise<void> first_update, release;
  std::shared_future<void> released = release.get_future().share();
  bool first = true;
  auto inner = collector.Callback();
  ASSERT_TRUE(engine->Submit(Greedy("dup", Prompt(4, 0), 200), [&](const RequestOutput& o) {
    inner(o);
    if (!std::exchange(first, false)) return;
    first_update.set_value();
    released.wait();
  }).ok());
  first_update.get_future().wait();
  EXPECT_EQ(param_of(Greedy("dup", Prompt(4, 0), 1)), "request_id");
  engine->Abort("dup");
  release.set_value();
  ASSERT_TRUE(collector.WaitFinished(1));
  // Positive control: the same engine accepts a valid request.
  EXPECT_TRUE(engine->Submit(Greedy("ok", Prompt(4, 0), 1), collector.Callback()).ok());
  EXPECT_TRUE(collector.WaitFinished(2));
}

}  // namespace
}  // namespace sieve::engine
