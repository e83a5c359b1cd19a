// Speculative decoding through the whole engine: greedy output equals decoding without speculation,
// token for token, under continuous batching (sequences accept different numbers of drafts), prefix
// caching, forced preemption and streaming; on a scripted model with a known acceptance pattern, on the
// tiny-dsv32-a fixture and on random checkpoints.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "model/checkpoint_presets.h"
#include "model/checkpoint_writer.h"
#include "tests/unit/engine/engine_test_support.h"
#include "tests/unit/engine/scripted_model.h"

namespace sieve::engine {
namespace {

using test_support::Collector;
using test_support::Greedy;
using test_support::ScriptedModel;

struct RunResult {
  std::vector<std::vector<int32_t>> tokens;  // per request, as streamed
  EngineStats stats;
  int max_tokens_in_one_update = 0;
};

// Runs `prompts` (greedy, `max_tokens` each) submitted together on a fresh engine.
RunResult RunAll(std::shared_ptr<model::Model> m, const EngineOptions& options,
                 const std::vector<std::vector<int32_t>>& prompts, int max_tokens) {
  auto engine = Engine::Create(m, nullptr, options);
  EXPECT_TRUE(engine.ok()) << engine.status().ToString();
  if (!engine.ok()) return {};
  Collector collector;
  RunResult result;
  std::mutex mu;
  for (size_t i = 0; i < prompts.size(); ++i) {
    auto callback = collector.Callback();
    auto wrapped = [&, callback](const RequestOutput& o) {
      {
        std::lock_guard<std::mutex> lock(mu);
        result.max_tokens_in_one_update = std::max<int>(result.max_tokens_in_one_update, o.new_token_ids.size());
      }
      callback(o);
    };
    EXPECT_TRUE((*engine)->Submit(Greedy("r" + std::to_string(i), prompts[i], max_tokens), wrapped).ok());
  }
  EXPECT_TRUE(collector.WaitFinished(static_cast<int>(prompts.size())));
  for (size_t i = 0; i < prompts.size(); ++i) {
    const auto c = collector.Get("r" + std::to_string(i));
    EXPECT_EQ(c.finish_reason, "length");
    EXPECT_EQ(c.updates_after_finish, 0);
    result.tokens.push_back(c.tokens);
  }
  result.stats = (*engine)->Stats();
  (*engine)->Shutdown();
  return result;
}

EngineOptions WithSpeculation(EngineOptions o, int k) {
  if (k > 0) o.speculative_config = R"({"method":"deepseek_mtp","num_speculative_tokens":)" + std::to_string(k) + "}";
  return o;
}

// Prompts that share prefixes (prefix-cache hits) and differ in length (sequences at different stages).
std::vector<std::vector<int32_t>> Prompts(int n, int64_t vocab) {
  std::vector<std::vector<int32_t>> prompts;
  for (int i = 0; i < n; ++i) {
    std::vector<int32_t> p = test_support::Prompt(20 + 7 * (i % 3), i % 2);
    p.push_back(static_cast<int32_t>(2 + i));
    for (int32_t& t : p) t = 2 + t % static_cast<int32_t>(vocab - 2);
    prompts.push_back(p);
  }
  return prompts;
}

TEST(SpeculativeEngineTest, ScriptedGreedyMatchesPlainDecoding) {
  auto m = std::make_shared<ScriptedModel>();
  for (int batch = 1; batch <= 8; batch += 3) {
    const auto prompts = Prompts(batch, ScriptedModel::kVocab);
    const RunResult plain = RunAll(m, test_support::SmallOptions(*m, 4096), prompts, 40);
    for (int k : {1, 3, 4}) {
      SCOPED_TRACE("batch " + std::to_string(batch) + " K " + std::to_string(k));
      const RunResult spec = RunAll(m, WithSpeculation(test_support::SmallOptions(*m, 4096), k), prompts, 40);
      EXPECT_EQ(spec.tokens, plain.tokens);
      // The scripted drafter is right about 2/3 of the time: partial accepts, several tokens per update.
      EXPECT_GT(spec.stats.spec_num_drafts, 0);
      EXPECT_GT(spec.stats.spec_num_accepted_tokens, 0);
      EXPECT_LT(spec.stats.spec_num_accepted_tokens, spec.stats.spec_num_draft_tokens);
      EXPECT_GT(spec.max_tokens_in_one_update, 1);
      ASSERT_EQ(spec.stats.spec_accepted_per_pos.size(), static_cast<size_t>(k));
      int64_t sum = 0;
      for (int64_t a : spec.stats.spec_accepted_per_pos) sum += a;
      EXPECT_EQ(sum, spec.stats.spec_num_accepted_tokens);
    }
  }
}

// Negative control: the same comparison sees a difference when the model does (another prompt set).
TEST(SpeculativeEngineTest, ComparisonDetectsADifferentOutput) {
  auto m = std::make_shared<ScriptedModel>();
  auto prompts = Prompts(2, ScriptedModel::kVocab);
  const RunResult plain = RunAll(m, test_support::SmallOptions(*m, 4096), prompts, 20);
  prompts[1][3] += 1;
  const RunResult spec = RunAll(m, WithSpeculation(test_support::SmallOptions(*m, 4096), 2), prompts, 20);
  EXPECT_EQ(spec.tokens[0], plain.tokens[0]);
  EXPECT_NE(spec.tokens[1], plain.tokens[1]);
}

TEST(SpeculativeEngineTest, ScriptedPreemptionAndPrefixCachingKeepTheOutput) {
  auto m = std::make_shared<ScriptedModel>();
  std::vector<std::vector<int32_t>> prompts = Prompts(6, ScriptedModel::kVocab);
  // Two requests repeat earlier 35-token prompts: prefix-cache hits.
  prompts.push_back(prompts[2]);
  prompts.push_back(prompts[5]);
  const RunResult plain = RunAll(m, test_support::SmallOptions(*m, 4096), prompts, 48);
  // 12 blocks of 16 tokens for 8 sequences of up to ~76 tokens: preemption is certain.
  const RunResult spec = RunAll(m, WithSpeculation(test_support::SmallOptions(*m, 192), 3), prompts, 48);
  EXPECT_EQ(spec.tokens, plain.tokens);
  EXPECT_GT(spec.stats.num_preemptions_total, 0);
  EXPECT_GT(spec.stats.prefix_cache_hits, 0);
  EXPECT_GT(spec.stats.spec_num_accepted_tokens, 0);
  EXPECT_EQ(spec.stats.kv_blocks_used, 0);  // every block given back, rolled-back ones included
}

// n > 1 choices fork from one prompt; each then drafts from its own tokens.
TEST(SpeculativeEngineTest, ScriptedForkedChoicesMatchPlainDecoding) {
  auto m = std::make_shared<ScriptedModel>();
  auto run = [&](const EngineOptions& options) {
    auto engine = Engine::Create(m, nullptr, options);
    EXPECT_TRUE(engine.ok());
    Collector collector;
    GenerationRequest r = Greedy("fork", Prompts(3, ScriptedModel::kVocab)[2], 30);
    r.params.n = 3;
    EXPECT_TRUE((*engine)->Submit(r, collector.Callback()).ok());
    EXPECT_TRUE(collector.WaitFinished(3));
    std::vector<std::vector<int32_t>> tokens;
    for (int i = 0; i < 3; ++i) tokens.push_back(collector.Get("fork", i).tokens);
    return tokens;
  };
  const auto plain = run(test_support::SmallOptions(*m, 4096));
  EXPECT_EQ(run(WithSpeculation(test_support::SmallOptions(*m, 4096), 3)), plain);
  EXPECT_EQ(plain[0].size(), 30u);
}

// Sampling through the whole engine keeps the target distribution: the third output token (drawn after
// a verified draft, or as a bonus token after two accepted drafts) over 4000 seeded requests, against its
// exact marginal on the scripted model (temperature 1, top_k 3: 27 paths). The rule itself has negative
// controls in rejection_sampler_test.cpp.
TEST(SpeculativeEngineTest, ScriptedSamplingKeepsTheTargetDistribution) {
  auto m = std::make_shared<ScriptedModel>();
  const std::vector<int32_t> prompt = Prompts(1, ScriptedModel::kVocab)[0];
  const int64_t p_len = static_cast<int64_t>(prompt.size());
  // Exact marginal of output token 2: softmax over {c-1, c, c+1} (logits 0 and -1) after each path.
  const double w = std::exp(-1.0), z = 1 + 2 * w;
  auto next = [](int32_t c, int i) { return static_cast<int32_t>((c + i + ScriptedModel::kVocab) % ScriptedModel::kVocab); };
  int64_t s0 = 0;
  for (int64_t q = 0; q < p_len; ++q) s0 = ScriptedModel::NextState(s0, prompt[q], q);
  std::vector<double> expected(ScriptedModel::kVocab, 0.0);
  for (int a = -1; a <= 1; ++a) {
    const int32_t t0 = next(ScriptedModel::NextToken(s0), a);
    const int64_t s1 = ScriptedModel::NextState(s0, t0, p_len);
    for (int b = -1; b <= 1; ++b) {
      const int32_t t1 = next(ScriptedModel::NextToken(s1), b);
      const int64_t s2 = ScriptedModel::NextState(s1, t1, p_len + 1);
      for (int c = -1; c <= 1; ++c)
        expected[next(ScriptedModel::NextToken(s2), c)] += (a ? w : 1) / z * (b ? w : 1) / z * (c ? w : 1) / z;
    }
  }
  constexpr int kRequests = 4000;
  auto engine = Engine::Create(m, nullptr, WithSpeculation(test_support::SmallOptions(*m, 8192, 128), 2));
  ASSERT_TRUE(engine.ok());
  Collector collector;
  for (int i = 0; i < kRequests; ++i) {
    GenerationRequest r{"s" + std::to_string(i), prompt, {}};
    r.params.temperature = 1.0;
    r.params.top_k = 3;
    r.params.max_tokens = 3;
    r.params.ignore_eos = true;
    ASSERT_TRUE((*engine)->Submit(r, collector.Callback()).ok());
  }
  ASSERT_TRUE(collector.WaitFinished(kRequests));
  std::vector<int> counts(ScriptedModel::kVocab, 0);
  for (int i = 0; i < kRequests; ++i) ++counts[collector.Get("s" + std::to_string(i)).tokens.at(2)];
  double chi2 = 0;
  int cells = 0;
  for (int64_t v = 0; v < ScriptedModel::kVocab; ++v) {
    if (expected[v] == 0) {
      EXPECT_EQ(counts[v], 0) << "token " << v << " is impossible";
      continue;
    }
    ++cells;
    const double e = expected[v] * kRequests;
    chi2 += (counts[v] - e) * (counts[v] - e) / e;
  }
  // Upper 0.1% point of chi-square for cells - 1 degrees of freedom (Wilson-Hilferty approximation).
  const double k = cells - 1, zq = 3.09;
  const double critical = k * std::pow(1 - 2 / (9 * k) + zq * std::sqrt(2 / (9 * k)), 3);
  EXPECT_LT(chi2, critical) << cells << " cells";
  const EngineStats stats = (*engine)->Stats();
  EXPECT_GT(stats.spec_num_accepted_tokens, 0);
  EXPECT_LT(stats.spec_num_accepted_tokens, stats.spec_num_draft_tokens);
}

// A model on a real checkpoint, loaded with its MTP layer.
std::shared_ptr<model::Model> LoadWithMtp(const std::string& dir) {
  auto ckpt = model::Checkpoint::Open(dir);
  if (!ckpt.ok()) return nullptr;
  auto m = model::Model::Load(std::shared_ptr<const model::Checkpoint>(std::move(ckpt).value()),
                              {.num_threads = 2, .enable_mtp = true});
  return m.ok() ? std::shared_ptr<model::Model>(std::move(m).value()) : nullptr;
}

void ExpectRealModelMatches(std::shared_ptr<model::Model> m) {
  for (int batch : {1, 3, 8}) {
    SCOPED_TRACE("batch " + std::to_string(batch));
    const auto prompts = Prompts(batch, std::min<int64_t>(m->config().vocab_size, 2000));
    const RunResult plain = RunAll(m, test_support::SmallOptions(*m, 2048), prompts, 12);
    const RunResult spec = RunAll(m, WithSpeculation(test_support::SmallOptions(*m, 2048), 2), prompts, 12);
    EXPECT_EQ(spec.tokens, plain.tokens);
    EXPECT_GT(spec.stats.spec_num_draft_tokens, 0);
  }
}

TEST(SpeculativeEngineTest, FixtureGreedyMatchesPlainDecoding) {
  auto fx = test::SharedFixture("tiny-dsv32-a");
  if (!fx) GTEST_SKIP() << "../shared/fixtures/tiny-dsv32-a is absent";
  auto m = LoadWithMtp(*fx + "/checkpoint");
  ASSERT_NE(m, nullptr);
  ExpectRealModelMatches(m);
}

TEST(SpeculativeEngineTest, RandomCheckpointGreedyMatchesPlainDecoding) {
  for (uint64_t seed : {3, 4}) {
    model::ModelConfig c = model::FindCheckpointPreset("tiny").value().config;
    c.vocab_size = 512;
    ASSERT_TRUE(model::SetNumLayers(2, &c).ok());
    test::TempDir tmp;
    model::CheckpointWriterOptions w;
    w.out_dir = tmp.path() + "/ckpt";
    w.seed = seed;
    w.num_threads = 1;
    ASSERT_TRUE(model::WriteRandomCheckpoint(c, w).ok());
    auto m = LoadWithMtp(w.out_dir);
    ASSERT_NE(m, nullptr);
    ExpectRealModelMatches(m);
  }
}

TEST(SpeculativeEngineTest, CreateRejectsSpeculationWithoutMtpLayer) {
  auto m = std::make_shared<ScriptedModel>();  // has an MTP cache layer: accepted
  EXPECT_TRUE(Engine::Create(m, nullptr, WithSpeculation(test_support::SmallOptions(*m, 256), 2)).ok());
  auto plain = test_support::TinyModel();       // loaded without enable_mtp
  if (!plain) GTEST_SKIP() << "../shared/fixtures/tiny-dsv32-a is absent";
  auto e = Engine::Create(plain, nullptr, WithSpeculation(test_support::SmallOptions(*plain, 256), 2));
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.status().message().find("MTP"), std::string::npos) << e.status().message();
}

}  // namespace
}  // namespace sieve::engine
