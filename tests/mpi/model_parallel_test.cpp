// The model split over a real mpirun (ctest starts it on loopback with the layout flags): every rank loads
// its shard (ModelOptions::layout + groups) and must produce the single-process run's greedy tokens and
// logits within the fixture's fp32 tolerance, on tiny-dsv32-a and on a random `make-checkpoint --preset
// tiny` model. Splits change only the order of float sums (partial sums per rank, then the all-reduce),
// never which terms are summed. A wrong shard (duplicated head ranges) must fail the same comparison.
//   mpirun -np N mpi_model_tests [gtest flags] [the layout flags of `sieve generate`]
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>

#include "model/checkpoint_presets.h"
#include "model/checkpoint_writer.h"
#include "parallel/counting_communicator.h"
#include "parallel/mpi_runtime.h"
#include "parallel/parallel_flags.h"
#include "tests/test_support.h"
#include "tests/unit/model/forward_test_support.h"

namespace sieve::model {
namespace {

using namespace test_support;

// tiny-dsv32-a README, "Recommended tolerances": fp32 logits max abs diff <= 5e-4, greedy tokens equal.
constexpr double kLogitTolerance = 5e-4;
constexpr int kSteps = 8;  // greedy tokens per prompt (prefill + 7 decode steps)

parallel::CountingCommunicator* world = nullptr;  // set by main
parallel::CountingCommunicator* attention = nullptr;
parallel::ParallelLayout layout;

struct GreedyRun {
  std::vector<int32_t> tokens;
  std::vector<std::vector<float>> logits;  // the row each token was chosen from
  int64_t last_step_bytes = 0;             // all-reduced by this rank in the last decode step
  int64_t last_step_context = 0;           // cached positions the last step's token sees
};

// Bytes one rank all-reduces in a decode step of one token with `context` positions (docs/parallelism.md):
// o_proj rows in every layer, the dense MLP rows, the MoE rows (routed and shared summed together without
// DP, separately with it), and the indexer's scores once the context exceeds index_topk.
int64_t AnalyticStepBytes(const ModelConfig& c, int64_t context) {
  const int64_t d = c.hidden_size, dense = c.first_k_dense_replace, moe = c.num_hidden_layers - dense;
  int64_t floats = c.num_hidden_layers * d + dense * d + moe * d * (layout.dp_size > 1 ? 2 : 1);
  if (c.has_indexer() && context > c.index_topk) floats += c.num_hidden_layers * context;
  return floats * static_cast<int64_t>(sizeof(float));
}

// Prefill, then one decode step per token through the cache (as `sieve generate`).
GreedyRun Greedy(Model& m, const std::vector<int32_t>& prompt) {
  auto cache = MakeCache(m, 1);
  GreedyRun run;
  SequenceChunk chunk = Chunk(0, prompt, 0, SequenceChunk::Logits::kLast);
  const int64_t vocab = m.config().vocab_size;
  for (int step = 0; step < kSteps; ++step) {
    world->ResetCounts();
    attention->ResetCounts();
    ForwardBatch batch;
    batch.seqs = {chunk};
    ForwardOutput out;
    EXPECT_TRUE(m.Forward(batch, *cache, &out).ok());
    run.logits.emplace_back(out.logits.ptr(), out.logits.ptr() + vocab);
    run.tokens.push_back(Argmax(out.logits.ptr(), vocab));
    run.last_step_bytes = world->all_reduce_bytes() + attention->all_reduce_bytes();
    run.last_step_context = chunk.start_pos + static_cast<int64_t>(chunk.token_ids.size());
    chunk.start_pos += static_cast<int64_t>(chunk.token_ids.size());
    chunk.token_ids = {run.tokens.back()};
  }
  return run;
}

std::unique_ptr<Model> LoadSingle(std::shared_ptr<const Checkpoint> ckpt) {
  auto m = Model::Load(std::move(ckpt), {.num_threads = 1});
  EXPECT_TRUE(m.ok()) << m.status().ToString();
  return m.ok() ? std::move(m).value() : nullptr;
}

std::unique_ptr<Model> LoadShard(std::shared_ptr<const Checkpoint> ckpt, const parallel::ParallelLayout& l) {
  ModelOptions options{.num_threads = 1};
  options.layout = l;
  options.attention_group = attention;
  options.moe_group = world;
  auto m = Model::Load(std::move(ckpt), options);
  EXPECT_TRUE(m.ok()) << m.status().ToString();
  return m.ok() ? std::move(m).value() : nullptr;
}

double WorstLogitDiff(const GreedyRun& a, const GreedyRun& b) {
  double worst = 0;
  for (size_t i = 0; i < a.logits.size(); ++i)
    worst = std::max(worst, MaxAbsDiff(a.logits[i].data(), b.logits[i].data(), static_cast<int64_t>(a.logits[i].size())));
  return worst;
}

void ExpectSameAsSingleProcess(std::shared_ptr<const Checkpoint> ckpt, const std::vector<int32_t>& prompt) {
  auto single = LoadSingle(ckpt);
  auto split = LoadShard(ckpt, layout);
  ASSERT_TRUE(single && split);
  const GreedyRun want = Greedy(*single, prompt);
  const GreedyRun got = Greedy(*split, prompt);
  EXPECT_EQ(got.tokens, want.tokens);
  const double worst = WorstLogitDiff(got, want);
  EXPECT_LE(worst, kLogitTolerance) << layout.Describe();
  const int64_t analytic = AnalyticStepBytes(ckpt->config(), got.last_step_context);
  EXPECT_EQ(got.last_step_bytes, analytic);
  if (world->rank() == 0)
    std::printf("[ %s ] max |logit diff| vs one process %.3g; last decode step (context %ld) all-reduced %ld bytes "
                "per rank (analytic %ld)\n",
                layout.Describe().c_str(), worst, static_cast<long>(got.last_step_context),
                static_cast<long>(got.last_step_bytes), static_cast<long>(analytic));
}

class ModelParallelFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    auto fx = test::SharedFixture("tiny-dsv32-a");
    if (!fx) GTEST_SKIP() << "../shared/fixtures/tiny-dsv32-a not present; test skipped";
    auto ckpt = Checkpoint::Open(*fx + "/checkpoint");
    ASSERT_TRUE(ckpt.ok()) << ckpt.status().ToString();
    ckpt_ = std::move(ckpt).value();
    GoldenFile prompts(*fx + "/golden/prompts.safetensors");
    GoldenFile logits(*fx + "/golden/fp32_logits.safetensors");
    for (int i = 0; i < 3; ++i) {
      prompts_.push_back(prompts.Ints("prompt_" + std::to_string(i)));
      golden_tokens_.push_back(logits.Ints("gen_tokens_" + std::to_string(i)));
    }
  }
  std::shared_ptr<const Checkpoint> ckpt_;
  std::vector<std::vector<int32_t>> prompts_, golden_tokens_;
};

// Prompts 1 and 2 (40 and 100 tokens) run past index_topk, so the summed indexer scores choose the keys.
TEST_F(ModelParallelFixture, GreedyTokensAndLogitsEqualOneProcess) {
  for (int i : {1, 2}) {
    SCOPED_TRACE("prompt " + std::to_string(i));
    ExpectSameAsSingleProcess(ckpt_, prompts_[i]);
  }
}

TEST_F(ModelParallelFixture, GreedyTokensEqualTheOfficialReference) {
  auto split = LoadShard(ckpt_, layout);
  ASSERT_TRUE(split);
  for (int i = 0; i < 3; ++i) {
    const GreedyRun got = Greedy(*split, prompts_[i]);
    EXPECT_EQ(got.tokens, Slice(golden_tokens_[i], 0, kSteps)) << "prompt " << i;
  }
}

// Negative control: every rank computing the first rank's heads and dense slices (so those count twice and
// the others never; a rotation would not do, as the sum over ranks does not depend on their order).
TEST_F(ModelParallelFixture, AWrongShardGivesDifferentLogits) {
  if (layout.attn_tp_size < 2) GTEST_SKIP() << "needs attention TP >= 2";
  parallel::ParallelLayout wrong = layout;
  wrong.attn_tp_rank = 0;
  auto single = LoadSingle(ckpt_);
  auto split = LoadShard(ckpt_, wrong);
  ASSERT_TRUE(single && split);
  EXPECT_GT(WorstLogitDiff(Greedy(*split, prompts_[1]), Greedy(*single, prompts_[1])), 100 * kLogitTolerance);
}

// A fresh random checkpoint of the `tiny` preset (real vocabulary), written once by rank 0.
TEST(ModelParallelRandom, GreedyTokensAndLogitsEqualOneProcess) {
  std::unique_ptr<test::TempDir> dir;
  char path[4096] = {};
  if (world->rank() == 0) {
    dir = std::make_unique<test::TempDir>();
    auto preset = FindCheckpointPreset("tiny");
    ASSERT_TRUE(preset.ok());
    CheckpointWriterOptions options;
    options.out_dir = dir->path();
    options.shard_bytes = preset->shard_bytes;
    auto written = WriteRandomCheckpoint(preset->config, options);
    ASSERT_TRUE(written.ok()) << written.status().ToString();
    std::snprintf(path, sizeof path, "%s", dir->path().c_str());
  }
  ASSERT_TRUE(world->Broadcast({reinterpret_cast<std::byte*>(path), sizeof path}, 0).ok());
  auto ckpt = Checkpoint::Open(path);
  ASSERT_TRUE(ckpt.ok()) << ckpt.status().ToString();
  ExpectSameAsSingleProcess(std::move(ckpt).value(), {0, 17, 4242, 99, 120000, 7, 3, 65000, 12, 5});
  ASSERT_TRUE(world->Barrier().ok());  // every rank is done with the files before rank 0 removes them
}

}  // namespace
}  // namespace sieve::model

int main(int argc, char** argv) {
  using namespace sieve;
  ::testing::InitGoogleTest(&argc, argv);
  parallel::ParallelConfig config;
  CLI::App flags("model_parallel_tests");
  parallel::AddParallelFlags(flags, &config);
  CLI11_PARSE(flags, argc, argv);
  auto runtime = parallel::MpiRuntime::Init();
  if (!runtime.ok()) {
    std::fprintf(stderr, "%s\n", runtime.status().message().c_str());
    return 1;
  }
  auto comm = (*runtime)->World(std::chrono::seconds(120));
  if (!comm.ok()) {
    std::fprintf(stderr, "%s\n", comm.status().message().c_str());
    return 1;
  }
  auto l = parallel::ParallelLayout::Create(config, (*comm)->size(), (*comm)->rank());
  if (!l.ok()) {
    std::fprintf(stderr, "%s\n", l.status().message().c_str());
    return 1;
  }
  auto group = (*comm)->Split(l->dp_rank, l->attn_tp_rank);
  if (!group.ok()) {
    std::fprintf(stderr, "%s\n", group.status().message().c_str());
    return 1;
  }
  parallel::CountingCommunicator counted_world(comm->get()), counted_attention(group->get());
  model::world = &counted_world;
  model::attention = &counted_attention;
  model::layout = *l;
  if (model::world->rank() != 0) GTEST_FLAG_SET(brief, true);
  const int failed = RUN_ALL_TESTS();
  group->reset();
  comm->reset();
  return failed;
}
