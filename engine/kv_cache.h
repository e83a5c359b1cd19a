// KV-cache sizing: how many blocks of --block-size tokens the paged cache gets from the memory budget
// (--kv-cache-memory GiB, or a fraction of the memory available now), and so the token capacity that is
// reported at start-up. The bytes themselves are model::PagedKvCache.
#pragma once

#include <cstdint>

#include "core/status.h"
#include "engine/engine.h"

namespace sieve::engine {

struct KvCacheSize {
  int64_t num_blocks = 0;
  int64_t block_size = 0;
  int64_t bytes_per_token = 0;  // over all cache layers
  int64_t token_capacity() const { return num_blocks * block_size; }
  int64_t bytes() const { return token_capacity() * bytes_per_token; }
};

// `max_useful_tokens`: more than this is never used (max_num_seqs full-length sequences), so the cache
// is capped there instead of taking the whole budget. ResourceExhausted if the budget holds no block.
StatusOr<KvCacheSize> SizeKvCache(const EngineOptions& options, int64_t bytes_per_token, int64_t max_useful_tokens,
                                  int64_t available_bytes);

}  // namespace sieve::engine
