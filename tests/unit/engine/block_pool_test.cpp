// BlockPool: reference counts, LRU eviction of free cached blocks, chained content hashes.
#include "engine/block_pool.h"

#include <gtest/gtest.h>

#include <vector>

namespace sieve::engine {
namespace {

TEST(BlockPool, AllocatesEveryBlockOnceThenRunsOut) {
  BlockPool pool(3, 4, true);
  std::vector<int32_t> got;
  for (int i = 0; i < 3; ++i) got.push_back(*pool.Allocate());
  EXPECT_FALSE(pool.Allocate().has_value());
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got, (std::vector<int32_t>{0, 1, 2}));
  EXPECT_EQ(pool.num_free_blocks(), 0);
  pool.Release(got[1]);
  EXPECT_EQ(pool.num_free_blocks(), 1);
  EXPECT_EQ(*pool.Allocate(), got[1]);
}

TEST(BlockPool, HashChainsOverParent) {
  const std::vector<int32_t> a = {1, 2, 3, 4};
  const std::vector<int32_t> b = {1, 2, 3, 5};
  EXPECT_EQ(BlockPool::ChainHash(0, a), BlockPool::ChainHash(0, a));
  EXPECT_NE(BlockPool::ChainHash(0, a), BlockPool::ChainHash(0, b));
  // Same tokens under a different parent are a different block.
  EXPECT_NE(BlockPool::ChainHash(BlockPool::ChainHash(0, a), a), BlockPool::ChainHash(BlockPool::ChainHash(0, b), a));
}

TEST(BlockPool, FreedCachedBlockIsFoundAndRevived) {
  BlockPool pool(2, 4, true);
  const std::vector<int32_t> tokens = {7, 8, 9, 10};
  const uint64_t h = BlockPool::ChainHash(0, tokens);
  const int32_t b = *pool.Allocate();
  pool.MarkFull(b, h, tokens);
  pool.Release(b);
  EXPECT_EQ(pool.num_free_blocks(), 2);  // free but still cached
  ASSERT_EQ(pool.FindCached(h, tokens), b);
  EXPECT_FALSE(pool.FindCached(h, std::vector<int32_t>{7, 8, 9, 11}).has_value());  // collision guard
  pool.Acquire(b);
  EXPECT_EQ(pool.ref_count(b), 1);
  EXPECT_EQ(pool.num_free_blocks(), 1);
}

TEST(BlockPool, EvictsLeastRecentlyFreedFirst) {
  BlockPool pool(3, 2, true);
  std::vector<std::vector<int32_t>> toks = {{1, 1}, {2, 2}, {3, 3}};
  std::vector<int32_t> blocks;
  for (auto& t : toks) {
    blocks.push_back(*pool.Allocate());
    pool.MarkFull(blocks.back(), BlockPool::ChainHash(0, t), t);
  }
  pool.Release(blocks[2]);  // freed first: evicted first
  pool.Release(blocks[0]);
  pool.Release(blocks[1]);
  EXPECT_EQ(*pool.Allocate(), blocks[2]);
  EXPECT_FALSE(pool.FindCached(BlockPool::ChainHash(0, toks[2]), toks[2]).has_value());
  EXPECT_TRUE(pool.FindCached(BlockPool::ChainHash(0, toks[0]), toks[0]).has_value());
  EXPECT_TRUE(pool.FindCached(BlockPool::ChainHash(0, toks[1]), toks[1]).has_value());
}

TEST(BlockPool, SharedBlockFreedOnlyByLastHolder) {
  BlockPool pool(1, 2, true);
  const int32_t b = *pool.Allocate();
  pool.Acquire(b);
  pool.Release(b);
  EXPECT_EQ(pool.num_free_blocks(), 0);
  pool.Release(b);
  EXPECT_EQ(pool.num_free_blocks(), 1);
}

TEST(BlockPool, CachingOffFindsNothing) {
  BlockPool pool(1, 2, false);
  const std::vector<int32_t> t = {4, 5};
  const int32_t b = *pool.Allocate();
  pool.MarkFull(b, BlockPool::ChainHash(0, t), t);
  pool.Release(b);
  EXPECT_FALSE(pool.FindCached(BlockPool::ChainHash(0, t), t).has_value());
}

}  // namespace
}  // namespace sieve::engine
