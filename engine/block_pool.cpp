// BlockPool: reference counts, the LRU free list and the content-hash prefix cache.
#include "engine/block_pool.h"

#include <algorithm>

#include "core/logging.h"

namespace sieve::engine {

namespace {
// splitmix64 finaliser (Steele et al., "Fast splittable pseudorandom number generators", 2014): a cheap
// full-avalanche mix so that chained hashes of similar blocks do not collide in practice.
uint64_t Mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}
}  // namespace

BlockPool::BlockPool(int64_t num_blocks, int64_t block_size, bool enable_prefix_caching)
    : block_size_(block_size), enable_prefix_caching_(enable_prefix_caching), blocks_(num_blocks) {
  for (int32_t b = 0; b < num_blocks; ++b) blocks_[b].free_pos = free_.insert(free_.end(), b);
}

uint64_t BlockPool::ChainHash(uint64_t parent_hash, std::span<const int32_t> tokens) {
  uint64_t h = Mix(parent_hash ^ 0x5ee7a11ce5ULL);
  for (int32_t t : tokens) h = Mix(h ^ static_cast<uint32_t>(t));
  return h;
}

std::optional<int32_t> BlockPool::FindCached(uint64_t hash, std::span<const int32_t> tokens) const {
  if (!enable_prefix_caching_) return std::nullopt;
  auto it = cached_.find(hash);
  if (it == cached_.end()) return std::nullopt;
  const Block& b = blocks_[it->second];
  if (!std::equal(tokens.begin(), tokens.end(), b.tokens.begin(), b.tokens.end())) return std::nullopt;
  return it->second;
}

void BlockPool::Acquire(int32_t block) {
  Block& b = blocks_[block];
  if (b.ref_count == 0) free_.erase(b.free_pos);
  ++b.ref_count;
}

std::optional<int32_t> BlockPool::Allocate() {
  if (free_.empty()) return std::nullopt;
  const int32_t block = free_.front();
  free_.pop_front();
  Evict(block);
  blocks_[block].ref_count = 1;
  return block;
}

void BlockPool::Release(int32_t block) {
  Block& b = blocks_[block];
  SIEVE_CHECK(b.ref_count > 0) << "block " << block << " released more often than acquired";
  if (--b.ref_count == 0) b.free_pos = free_.insert(free_.end(), block);
}

void BlockPool::MarkFull(int32_t block, uint64_t hash, std::span<const int32_t> tokens) {
  if (!enable_prefix_caching_ || cached_.count(hash)) return;
  Block& b = blocks_[block];
  Evict(block);
  b.hash = hash;
  b.tokens.assign(tokens.begin(), tokens.end());
  cached_.emplace(hash, block);
}

void BlockPool::Evict(int32_t block) {
  Block& b = blocks_[block];
  if (!b.hash) return;
  cached_.erase(*b.hash);
  b.hash.reset();
  b.tokens.clear();
}

}  // namespace sieve::engine
