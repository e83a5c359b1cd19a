// ParallelLayout: vLLM's and SGLang's flags give the same rank layouts, and bad combinations are refused
// with the flag names.
#include "parallel/parallel_layout.h"

#include <gtest/gtest.h>

#include <set>

#include <CLI/CLI.hpp>

#include "parallel/parallel_flags.h"

namespace sieve::parallel {
namespace {

ParallelLayout MustCreate(const ParallelConfig& c, int world, int rank) {
  auto layout = ParallelLayout::Create(c, world, rank);
  EXPECT_TRUE(layout.ok()) << layout.status().message();
  return layout.ok() ? *layout : ParallelLayout{};
}

TEST(ParallelLayoutTest, SingleProcessOwnsEverything) {
  const ParallelLayout l = MustCreate({}, 1, 0);
  EXPECT_EQ(l.attn_tp_size, 1);
  EXPECT_EQ(l.dp_size, 1);
  EXPECT_EQ(l.moe_ep_size, 1);
  EXPECT_EQ(l.moe_tp_size, 1);
  const auto heads = l.AttentionHeads(128);
  ASSERT_TRUE(heads.ok());
  EXPECT_EQ(heads->begin, 0);
  EXPECT_EQ(heads->count, 128);
}

TEST(ParallelLayoutTest, VllmTensorTimesDataParallelOrdersTensorInnermost) {
  const ParallelConfig c{.tensor_parallel_size = 2, .data_parallel_size = 2, .enable_expert_parallel = true};
  // rank -> (dp, tp): 0 (0,0) 1 (0,1) 2 (1,0) 3 (1,1).
  for (int rank = 0; rank < 4; ++rank) {
    const ParallelLayout l = MustCreate(c, 4, rank);
    EXPECT_EQ(l.dp_rank, rank / 2);
    EXPECT_EQ(l.attn_tp_rank, rank % 2);
    EXPECT_EQ(l.moe_ep_size, 4);
    EXPECT_EQ(l.moe_ep_rank, rank);
    EXPECT_EQ(l.moe_tp_size, 1);
  }
}

TEST(ParallelLayoutTest, ShardsCoverEveryItemOnce) {
  const ParallelConfig c{.tensor_parallel_size = 4, .enable_expert_parallel = true};
  std::set<int64_t> heads, experts;
  for (int rank = 0; rank < 4; ++rank) {
    const ParallelLayout l = MustCreate(c, 4, rank);
    const auto h = l.AttentionHeads(128);
    const auto e = l.RoutedExperts(256);
    ASSERT_TRUE(h.ok() && e.ok());
    EXPECT_EQ(h->count, 32);
    EXPECT_EQ(e->count, 64);
    for (int64_t i = 0; i < h->count; ++i) heads.insert(h->begin + i);
    for (int64_t i = 0; i < e->count; ++i) experts.insert(e->begin + i);
  }
  EXPECT_EQ(heads.size(), 128u);
  EXPECT_EQ(*heads.rbegin(), 127);
  EXPECT_EQ(experts.size(), 256u);
}

TEST(ParallelLayoutTest, WithoutExpertParallelTheExpertsSplitTheirIntermediateOverTheWorld) {
  const ParallelConfig c{.tensor_parallel_size = 2, .data_parallel_size = 2};
  const ParallelLayout l = MustCreate(c, 4, 3);
  EXPECT_EQ(l.moe_ep_size, 1);
  EXPECT_EQ(l.moe_tp_size, 4);
  const auto cols = l.ExpertIntermediate(2048);
  ASSERT_TRUE(cols.ok());
  EXPECT_EQ(cols->begin, 3 * 512);
  EXPECT_EQ(cols->count, 512);
  const auto experts = l.RoutedExperts(256);
  ASSERT_TRUE(experts.ok());
  EXPECT_EQ(experts->count, 256);
}

TEST(ParallelLayoutTest, SglangDpAttentionSplitsTheTpWorldIntoAttentionGroups) {
  // sglang --tp 4 --dp 2 --enable-dp-attention --ep 4: 4 processes, two replicas of 2 attention ranks.
  const ParallelConfig c{.tensor_parallel_size = 4, .data_parallel_size = 2, .expert_parallel_size = 4,
                         .enable_dp_attention = true};
  const ParallelLayout l = MustCreate(c, 4, 2);
  EXPECT_EQ(l.attn_tp_size, 2);
  EXPECT_EQ(l.dp_rank, 1);
  EXPECT_EQ(l.attn_tp_rank, 0);
  EXPECT_EQ(l.moe_ep_size, 4);
  EXPECT_EQ(l.moe_ep_rank, 2);
}

TEST(ParallelLayoutTest, RefusesLayoutsThatDoNotMatchTheProcessCount) {
  auto wrong_world = ParallelLayout::Create({.tensor_parallel_size = 2, .data_parallel_size = 2}, 2, 0);
  ASSERT_FALSE(wrong_world.ok());
  EXPECT_EQ(wrong_world.status().message(),
            "--tensor-parallel-size 2 x --data-parallel-size 2 needs 4 processes, but mpirun started 2");
  auto dp_attention = ParallelLayout::Create(
      {.tensor_parallel_size = 4, .data_parallel_size = 3, .enable_dp_attention = true}, 4, 0);
  ASSERT_FALSE(dp_attention.ok());
  EXPECT_EQ(dp_attention.status().message(), "--enable-dp-attention: --tp 4 is not divisible by --dp 3");
  auto ep = ParallelLayout::Create({.tensor_parallel_size = 4, .expert_parallel_size = 2}, 4, 0);
  ASSERT_FALSE(ep.ok());
  EXPECT_EQ(ep.status().message(),
            "--ep 2 must be 1 or the number of processes (4): experts are split over every rank");
  EXPECT_FALSE(ParallelLayout::Create({.tensor_parallel_size = 0}, 1, 0).ok());
}

TEST(ParallelLayoutTest, RefusesDimensionsThatDoNotDivide) {
  const ParallelLayout l = MustCreate({.tensor_parallel_size = 3}, 3, 1);
  const auto heads = l.AttentionHeads(4);
  ASSERT_FALSE(heads.ok());
  EXPECT_EQ(heads.status().message(), "attention heads = 4 is not divisible by 3 ranks");
}

TEST(ParallelFlagsTest, VllmNamesAndSglangAliasesFillTheSameConfig) {
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"--tensor-parallel-size", "2", "--data-parallel-size", "2",
                                 "--enable-expert-parallel"},
        std::vector<std::string>{"--tp", "2", "--dp", "2", "--enable-expert-parallel"},
        std::vector<std::string>{"--tp-size", "2", "--dp-size", "2", "--enable-expert-parallel"}}) {
    CLI::App app;
    ParallelConfig c;
    AddParallelFlags(app, &c);
    std::vector<std::string> reversed(args.rbegin(), args.rend());  // CLI11 parses a reversed vector
    app.parse(reversed);
    EXPECT_EQ(c.tensor_parallel_size, 2);
    EXPECT_EQ(c.data_parallel_size, 2);
    EXPECT_TRUE(c.enable_expert_parallel);
  }
}

}  // namespace
}  // namespace sieve::parallel
