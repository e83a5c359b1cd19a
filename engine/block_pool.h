// BlockPool: which KV-cache blocks are in use, by how many sequences, and which free blocks still hold a
// reusable prefix (the prefix cache). The bytes live in model::PagedKvCache; this is only bookkeeping.
// Prefix caching follows vLLM's automatic prefix caching (vllm/v1/core/block_pool.py): a full block is
// named by a hash chained over its tokens and its parent block's hash; freed blocks keep their hash and are
// evicted least-recently-freed first when a fresh block is needed.
#pragma once

#include <cstdint>
#include <list>
#include <optional>
#include <span>
#include <unordered_map>
#include <vector>

namespace sieve::engine {

class BlockPool {
 public:
  BlockPool(int64_t num_blocks, int64_t block_size, bool enable_prefix_caching);

  // Hash of a full block: its tokens chained to the parent's hash (0 for the first block).
  static uint64_t ChainHash(uint64_t parent_hash, std::span<const int32_t> tokens);

  // A cached block holding exactly `tokens` under `hash`, or nullopt. Does not take a reference.
  std::optional<int32_t> FindCached(uint64_t hash, std::span<const int32_t> tokens) const;
  // Takes a reference on a block found by FindCached (revives it if it was free).
  void Acquire(int32_t block);
  // A fresh block (reference count 1), evicting the least recently freed cached block; nullopt if none.
  std::optional<int32_t> Allocate();
  // Drops one reference; at zero the block becomes free but keeps its cached content until evicted.
  void Release(int32_t block);
  // Registers a block whose `tokens` are all in the cache under `hash`. No-op when caching is off or
  // another block already holds that hash (the first one stays canonical).
  void MarkFull(int32_t block, uint64_t hash, std::span<const int32_t> tokens);

  int64_t num_blocks() const { return static_cast<int64_t>(blocks_.size()); }
  int64_t block_size() const { return block_size_; }
  int64_t num_free_blocks() const { return static_cast<int64_t>(free_.size()); }
  int64_t num_used_blocks() const { return num_blocks() - num_free_blocks(); }
  int32_t ref_count(int32_t block) const { return blocks_[block].ref_count; }
  bool prefix_caching() const { return enable_prefix_caching_; }

 private:
  struct Block {
    int32_t ref_count = 0;
    std::optional<uint64_t> hash;       // set while the block is in cached_
    std::vector<int32_t> tokens;        // the hashed tokens, to reject hash collisions
    std::list<int32_t>::iterator free_pos;  // valid while ref_count == 0
  };
  void Evict(int32_t block);

  int64_t block_size_;
  bool enable_prefix_caching_;
  std::vector<Block> blocks_;
  std::list<int32_t> free_;                       // front = least recently freed = evicted first
  std::unordered_map<uint64_t, int32_t> cached_;  // hash -> block
};

}  // namespace sieve::engine
