// The model split over a real mpirun (ctest starts it on loopback with the layout flags): every rank loads
// its shard (ModelOptions::layout + groups) and must produce the single-process run's greedy tokens and
// logits within the fixture's fp32 tolerance, on tiny-dsv32-a and on a random `make-checkpoint --preset
// tiny` model. Splits change only the order of float sums (partial sums per rank, then the all-reduce),
// never which terms are summed. A wrong shard (duplicated head ranges) must fail the same comparison.
//   mpirun -np N mpi_model_tests [gtest flags] [the layout flags of `sieve generate`]
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <set>

#include "model/checkpoint_presets.h"
#include "model/checkpoint_writer.h"
#include "model/expert_dispatch.h"
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
  // All-to-all bytes sent in the last step, summed over every rank of the world (DP > 1 only): measured,
  // and counted from the step's routing (AnalyticAllToAllBytes).
  int64_t last_step_all_to_all = 0;
  int64_t last_step_all_to_all_analytic = 0;
};

// Bytes one rank all-reduces in a decode step of one token with `context` positions (docs/parallelism.md):
// the embedding row, o_proj rows in every layer, the dense MLP rows, the MoE rows (routed and shared summed together without
// DP; with it the all-to-all combines the routed experts and this all-reduce joins the attention group's
// row shares and shared-expert slices), and the indexer's scores once the context exceeds index_topk (or
// always in a traced run, which records every token's scores).
int64_t AnalyticStepBytes(const ModelConfig& c, int64_t context, bool traced) {
  const int64_t d = c.hidden_size, dense = c.first_k_dense_replace;
  // The vocabulary-parallel embedding adds one row when the vocabulary divides by the attention TP size.
  const int64_t embedding = c.vocab_size % layout.attn_tp_size == 0 ? d : 0;
  int64_t floats = embedding + c.num_hidden_layers * d + dense * d + (c.num_hidden_layers - dense) * d;
  if (c.has_indexer() && (context > c.index_topk || traced)) floats += c.num_hidden_layers * context;
  return floats * static_cast<int64_t>(sizeof(float));
}

// All-to-all bytes one replica's step sends, from its routing (docs/parallelism.md): each row goes once to
// every rank holding one of its experts (every rank without EP) as a record of k ids, k weights and the
// row, and comes back as one partial row per such rank.
int64_t AnalyticAllToAllBytes(const ModelConfig& c, const ForwardTrace& trace) {
  const int64_t k = c.num_experts_per_tok, per_rank = c.n_routed_experts / layout.world_size;
  const int64_t record = DispatchRecordBytes(k, c.hidden_size) + c.hidden_size * static_cast<int64_t>(sizeof(float));
  int64_t bytes = 0;
  for (const std::vector<int32_t>& ids : trace.moe_expert_ids) {
    for (size_t row = 0; row * k < ids.size(); ++row) {
      std::set<int64_t> owners;
      for (int64_t i = 0; i < k; ++i) owners.insert(ids[row * k + i] / per_rank);
      bytes += static_cast<int64_t>(layout.moe_ep_size > 1 ? owners.size() : layout.world_size) * record;
    }
  }
  return bytes;
}

// One forward of `batch` (empty: an idle replica's step, which still joins the MoE group's collectives);
// the token chosen from its last row, or -1 for an empty batch.
int32_t Step(Model& m, PagedKvCache& cache, const std::vector<SequenceChunk>& seqs, ForwardTrace* trace,
             GreedyRun* run) {
  world->ResetCounts();
  attention->ResetCounts();
  ForwardBatch batch;
  batch.seqs = seqs;
  ForwardOutput out;
  EXPECT_TRUE(m.Forward(batch, cache, &out).ok());
  run->last_step_bytes = world->all_reduce_bytes() + attention->all_reduce_bytes();
  if (trace != nullptr) {
    // Counted before this all-reduce, which adds them up over the world; the replica's analytic count
    // once per replica.
    const ModelConfig& c = m.config();
    float totals[2] = {static_cast<float>(world->all_to_all_bytes()),
                       layout.attn_tp_rank == 0 ? static_cast<float>(AnalyticAllToAllBytes(c, *trace)) : 0.0f};
    EXPECT_TRUE(world->AllReduceSum(totals).ok());
    run->last_step_all_to_all = static_cast<int64_t>(totals[0]);
    run->last_step_all_to_all_analytic = static_cast<int64_t>(totals[1]);
  }
  if (seqs.empty()) return -1;
  const int64_t vocab = m.config().vocab_size;
  run->logits.emplace_back(out.logits.ptr(), out.logits.ptr() + vocab);
  run->tokens.push_back(Argmax(out.logits.ptr(), vocab));
  return run->tokens.back();
}

// Prefill, then one decode step per token through the cache (as `sieve generate`); `idle_before` and
// `idle_after` empty steps around them (data-parallel replicas that run different requests). `trace` is the
// model's trace, or null for the single process.
GreedyRun Greedy(Model& m, const std::vector<int32_t>& prompt, ForwardTrace* trace = nullptr, int idle_before = 0,
                 int idle_after = 0) {
  auto cache = MakeCache(m, 1);
  GreedyRun run;
  for (int i = 0; i < idle_before; ++i) Step(m, *cache, {}, trace, &run);
  SequenceChunk chunk = Chunk(0, prompt, 0, SequenceChunk::Logits::kLast);
  for (int step = 0; step < kSteps; ++step) {
    const int32_t token = Step(m, *cache, {chunk}, trace, &run);
    run.last_step_context = chunk.start_pos + static_cast<int64_t>(chunk.token_ids.size());
    chunk.start_pos += static_cast<int64_t>(chunk.token_ids.size());
    chunk.token_ids = {token};
  }
  const int64_t last_bytes = run.last_step_bytes;  // of the last decode step, not of the idle ones after it
  for (int i = 0; i < idle_after; ++i) Step(m, *cache, {}, trace, &run);
  run.last_step_bytes = last_bytes;
  return run;
}

std::unique_ptr<Model> LoadSingle(std::shared_ptr<const Checkpoint> ckpt) {
  auto m = Model::Load(std::move(ckpt), {.num_threads = 1});
  EXPECT_TRUE(m.ok()) << m.status().ToString();
  return m.ok() ? std::move(m).value() : nullptr;
}

std::unique_ptr<Model> LoadShard(std::shared_ptr<const Checkpoint> ckpt, const parallel::ParallelLayout& l,
                                 ForwardTrace* trace = nullptr) {
  ModelOptions options{.num_threads = 1, .trace = trace};
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

// `prompt` on every replica, or with DP > 1 `replica_prompts[dp_rank]` run after `dp_rank * 3` idle steps
// (and idle until the others finish), so replicas hold different tokens and idle ones step empty.
void ExpectSameAsSingleProcess(std::shared_ptr<const Checkpoint> ckpt, const std::vector<int32_t>& prompt,
                               const std::vector<std::vector<int32_t>>& replica_prompts = {}) {
  const bool staggered = !replica_prompts.empty();
  const std::vector<int32_t>& mine = staggered ? replica_prompts[layout.dp_rank % replica_prompts.size()] : prompt;
  const int idle_before = staggered ? 3 * layout.dp_rank : 0, idle_after = staggered ? 3 * (layout.dp_size - 1) - idle_before : 0;
  ForwardTrace trace;
  auto single = LoadSingle(ckpt);
  auto split = LoadShard(ckpt, layout, layout.dp_size > 1 ? &trace : nullptr);
  ASSERT_TRUE(single && split);
  const GreedyRun want = Greedy(*single, mine);
  const GreedyRun got = Greedy(*split, mine, layout.dp_size > 1 ? &trace : nullptr, idle_before, idle_after);
  EXPECT_EQ(got.tokens, want.tokens);
  const double worst = WorstLogitDiff(got, want);
  EXPECT_LE(worst, kLogitTolerance) << layout.Describe();
  const int64_t analytic = AnalyticStepBytes(ckpt->config(), got.last_step_context, layout.dp_size > 1);
  EXPECT_EQ(got.last_step_bytes, analytic);
  EXPECT_EQ(got.last_step_all_to_all, got.last_step_all_to_all_analytic);
  if (layout.dp_size > 1 && !staggered) {
    EXPECT_GT(got.last_step_all_to_all, 0);
  }
  if (world->rank() == 0)
    std::printf("[ %s%s ] max |logit diff| vs one process %.3g; last decode step (context %ld) all-reduced %ld bytes "
                "per rank (analytic %ld); all-to-all %ld bytes over all ranks (analytic %ld)\n",
                layout.Describe().c_str(), staggered ? ", replicas staggered" : "", worst,
                static_cast<long>(got.last_step_context), static_cast<long>(got.last_step_bytes),
                static_cast<long>(analytic), static_cast<long>(got.last_step_all_to_all),
                static_cast<long>(got.last_step_all_to_all_analytic));
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

// Data-parallel attention: each replica runs its own prompt, starting 3 steps after the previous replica
// (so in some steps a replica holds no tokens and only joins the MoE group's all-to-alls), and must still
// produce the single-process tokens and logits of its prompt.
TEST_F(ModelParallelFixture, DataParallelReplicasRunDifferentPrompts) {
  if (layout.dp_size < 2) GTEST_SKIP() << "needs --data-parallel-size >= 2";
  ExpectSameAsSingleProcess(ckpt_, {}, {prompts_[1], prompts_[2], prompts_[0]});
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
