// Scheduler without a model: a fake step samples a token that depends on every token of the sequence,
// so a lost, duplicated or reordered token changes the outputs.
#include "engine/scheduler.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <map>
#include <random>

namespace sieve::engine {
namespace {

constexpr int32_t kVocab = 97;
constexpr int32_t kEos = 96;  // never produced by FakeNextToken

int32_t FakeNextToken(const Sequence& seq) {
  uint64_t h = 17;
  for (int32_t t : seq.token_ids) h = h * 31 + static_cast<uint64_t>(t);
  return static_cast<int32_t>(h % (kVocab - 1));
}

struct Harness {
  Harness(int64_t num_blocks, int64_t block_size, SchedulerOptions options, bool prefix_caching = true)
      : pool(num_blocks, block_size, prefix_caching), scheduler(options, &pool) {}

  void Submit(const std::string& id, std::vector<int32_t> prompt, int max_tokens, int n = 1) {
    GenerationRequest r{id, std::move(prompt), {}};
    r.params.max_tokens = max_tokens;
    r.params.n = n;
    scheduler.Add(MakeRequest(std::move(r), arrivals++, 0, kEos, 1 << 20, nullptr));
  }
  // One step; returns the batch it ran.
  ScheduledBatch Step() {
    ScheduledBatch batch = scheduler.Schedule();
    std::vector<ChunkResult> results(batch.chunks.size());
    for (size_t i = 0; i < batch.chunks.size(); ++i)
      for (Sequence* target : batch.chunks[i].samplers) {
        results[i].samples.push_back(SampleResult{FakeNextToken(*target), std::nullopt});
      }
    CommitResult c = scheduler.Commit(batch, results);
    copies.insert(copies.end(), c.block_copies.begin(), c.block_copies.end());
    Record(c.outputs);
    return batch;
  }
  void Record(const std::vector<RequestOutput>& outputs) {
    for (const RequestOutput& o : outputs) {
      const std::string key = fmt::format("{}/{}", o.request_id, o.index);
      EXPECT_FALSE(finish.count(key)) << key << " updated after it finished";
      auto& t = tokens[key];
      t.insert(t.end(), o.new_token_ids.begin(), o.new_token_ids.end());
      if (o.finished) finish[key] = o.finish_reason;
    }
  }
  void RunToCompletion(int max_steps = 10000) {
    for (int i = 0; i < max_steps && scheduler.HasWork(); ++i) Step();
    EXPECT_FALSE(scheduler.HasWork());
  }

  BlockPool pool;
  Scheduler scheduler;
  int64_t arrivals = 0;
  std::map<std::string, std::vector<int32_t>> tokens;
  std::map<std::string, std::string> finish;
  std::vector<std::pair<int32_t, int32_t>> copies;
};

// What a request generates alone, with a cache large enough never to preempt.
std::vector<int32_t> Alone(std::vector<int32_t> prompt, int max_tokens) {
  Harness h(256, 4, SchedulerOptions{8, 64, 1 << 20, true});
  h.Submit("a", std::move(prompt), max_tokens);
  h.RunToCompletion();
  return h.tokens["a/0"];
}

std::vector<int32_t> Prompt(int len, int salt) {
  std::vector<int32_t> p(len);
  for (int i = 0; i < len; ++i) p[i] = (i * 7 + salt) % (kVocab - 1);
  return p;
}

TEST(Scheduler, DecodesAreBatchedAfterOnePrefillStep) {
  Harness h(64, 4, SchedulerOptions{8, 64, 1 << 20, true});
  for (int i = 0; i < 3; ++i) h.Submit(fmt::format("r{}", i), Prompt(5, i), 4);
  EXPECT_EQ(h.Step().chunks.size(), 3u);  // three whole prompts in one step
  for (int s = 0; s < 3; ++s) {
    ScheduledBatch b = h.Step();
    ASSERT_EQ(b.chunks.size(), 3u);
    for (auto& c : b.chunks) EXPECT_EQ(c.num_tokens, 1);
  }
  EXPECT_FALSE(h.scheduler.HasWork());
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(h.finish[fmt::format("r{}/0", i)], "length");
    EXPECT_EQ(h.tokens[fmt::format("r{}/0", i)], Alone(Prompt(5, i), 4));
  }
  EXPECT_EQ(h.pool.num_free_blocks(), 64);
}

TEST(Scheduler, ChunkedPrefillMixesWithDecodes) {
  Harness h(64, 4, SchedulerOptions{8, 8, 1 << 20, true});
  h.Submit("short", Prompt(3, 1), 6);
  h.Step();                          // prefill "short"
  h.Submit("long", Prompt(20, 2), 2);
  ScheduledBatch b = h.Step();       // 1 decode + 7 prefill tokens
  ASSERT_EQ(b.chunks.size(), 2u);
  EXPECT_EQ(b.chunks[0].num_tokens, 1);
  EXPECT_EQ(b.chunks[1].num_tokens, 7);
  EXPECT_TRUE(b.chunks[1].samplers.empty());  // a non-final chunk samples nothing
  h.RunToCompletion();
  EXPECT_EQ(h.tokens["long/0"], Alone(Prompt(20, 2), 2));
  EXPECT_EQ(h.tokens["short/0"], Alone(Prompt(3, 1), 6));
}

TEST(Scheduler, PrefixCacheHitSkipsFullBlocks) {
  Harness h(64, 4, SchedulerOptions{8, 64, 1 << 20, true});
  h.Submit("a", Prompt(14, 3), 2);
  h.RunToCompletion();
  h.Submit("b", Prompt(14, 3), 2);
  ScheduledBatch b = h.Step();
  ASSERT_EQ(b.chunks.size(), 1u);
  EXPECT_EQ(b.chunks[0].start_pos, 12);  // 3 full blocks cached
  EXPECT_EQ(b.chunks[0].num_tokens, 2);
  h.RunToCompletion();
  EXPECT_EQ(h.tokens["a/0"], h.tokens["b/0"]);
  EXPECT_EQ(h.scheduler.counters().prefix_cache_hits, 12);
}

TEST(Scheduler, NoPrefixHitWhenCachingIsOff) {
  Harness h(64, 4, SchedulerOptions{8, 64, 1 << 20, true}, /*prefix_caching=*/false);
  h.Submit("a", Prompt(14, 3), 2);
  h.RunToCompletion();
  h.Submit("b", Prompt(14, 3), 2);
  EXPECT_EQ(h.Step().chunks[0].start_pos, 0);
}

TEST(Scheduler, PreemptsByRecomputeWhenBlocksRunOut) {
  // 6 blocks of 4 tokens; two sequences that each grow to 16 tokens (4 blocks) cannot both fit.
  Harness h(6, 4, SchedulerOptions{8, 64, 1 << 20, true});
  h.Submit("a", Prompt(6, 1), 10);
  h.Submit("b", Prompt(6, 2), 10);
  h.RunToCompletion();
  EXPECT_GT(h.scheduler.counters().preemptions, 0);
  EXPECT_EQ(h.tokens["a/0"], Alone(Prompt(6, 1), 10));
  EXPECT_EQ(h.tokens["b/0"], Alone(Prompt(6, 2), 10));
  EXPECT_EQ(h.pool.num_free_blocks(), 6);
}

TEST(Scheduler, ChoicesForkFromTheComputedPrompt) {
  Harness h(64, 4, SchedulerOptions{8, 64, 1 << 20, true});
  h.Submit("n3", Prompt(6, 4), 3, /*n=*/3);
  ScheduledBatch first = h.Step();
  ASSERT_EQ(first.chunks.size(), 1u);  // the prompt is computed once
  EXPECT_EQ(first.chunks[0].samplers.size(), 3u);
  const int32_t full_block = first.chunks[0].seq->block_table[0];
  EXPECT_EQ(h.pool.ref_count(full_block), 3);
  EXPECT_EQ(h.copies.size(), 2u);  // the partial second block, once per forked choice
  EXPECT_EQ(h.Step().chunks.size(), 3u);
  h.RunToCompletion();
  for (int i = 0; i < 3; ++i) EXPECT_EQ(h.finish[fmt::format("n3/{}", i)], "length");
  EXPECT_EQ(h.pool.num_free_blocks(), 64);
}

TEST(Scheduler, AbortFreesEverythingAtOnce) {
  Harness h(16, 4, SchedulerOptions{8, 64, 1 << 20, true});
  h.Submit("x", Prompt(9, 1), 50, 2);
  h.Submit("y", Prompt(9, 2), 50);
  h.Step();
  h.Step();
  EXPECT_LT(h.pool.num_free_blocks(), 16);
  h.Record(h.scheduler.Abort("x"));
  EXPECT_EQ(h.finish["x/0"], "abort");
  EXPECT_EQ(h.finish["x/1"], "abort");
  EXPECT_FALSE(h.scheduler.HasRequest("x"));
  EXPECT_TRUE(h.scheduler.Abort("x").empty());  // unknown now: no-op
  h.Record(h.scheduler.Abort("y"));
  EXPECT_EQ(h.pool.num_free_blocks(), 16);
  EXPECT_FALSE(h.scheduler.HasWork());
}

TEST(Scheduler, RespectsMaxNumSeqs) {
  Harness h(64, 4, SchedulerOptions{2, 64, 1 << 20, true});
  for (int i = 0; i < 4; ++i) h.Submit(fmt::format("r{}", i), Prompt(3, i), 3);
  EXPECT_EQ(h.Step().chunks.size(), 2u);
  EXPECT_EQ(h.scheduler.num_waiting(), 2);
  h.RunToCompletion();
  EXPECT_EQ(h.finish.size(), 4u);
}

// Random arrivals, lengths, n and aborts on a cache so small that preemption is routine: every choice
// ends exactly once (finished or aborted), outputs match a solo run, and every block is free at the end.
TEST(Scheduler, RandomizedWorkloadEndsCleanly) {
  std::mt19937 rng(20251123);
  const int64_t kBlocks = 12, kBlockSize = 4;
  Harness h(kBlocks, kBlockSize, SchedulerOptions{6, 16, kBlocks * kBlockSize, true});
  std::map<std::string, std::pair<std::vector<int32_t>, int>> submitted;
  std::vector<std::string> live;
  int next_id = 0;
  for (int step = 0; step < 400; ++step) {
    if (step < 300 && rng() % 3 == 0) {
      const std::string id = fmt::format("q{}", next_id++);
      std::vector<int32_t> prompt = Prompt(1 + rng() % 20, rng() % 50);
      const int max_tokens = 1 + rng() % 12;
      const int n = 1 + (rng() % 4 == 0 ? rng() % 3 : 0);
      h.Submit(id, prompt, max_tokens, n);
      submitted[id] = {prompt, max_tokens};
      live.push_back(id);
    }
    if (!live.empty() && rng() % 11 == 0) {
      const std::string id = live[rng() % live.size()];
      h.Record(h.scheduler.Abort(id));
    }
    h.Step();
  }
  h.RunToCompletion();
  EXPECT_GT(h.scheduler.counters().preemptions, 0) << "the cache was meant to force preemption";
  int finished = 0, aborted = 0;
  for (const auto& [id, spec] : submitted) {
    const std::string key = fmt::format("{}/0", id);
    ASSERT_TRUE(h.finish.count(key)) << key << " never ended";
    if (h.finish[key] == "abort") {
      ++aborted;
      continue;
    }
    ++finished;
    EXPECT_EQ(h.tokens[key], Alone(spec.first, spec.second)) << key;
  }
  EXPECT_GT(finished, 0);
  EXPECT_GT(aborted, 0);
  EXPECT_EQ(h.pool.num_free_blocks(), kBlocks);
  EXPECT_EQ(h.scheduler.num_running() + h.scheduler.num_waiting(), 0);
}

}  // namespace
}  // namespace sieve::engine
