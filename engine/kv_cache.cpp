// KV-cache sizing from a memory budget.
#include "engine/kv_cache.h"

#include <fmt/format.h>

#include <algorithm>

namespace sieve::engine {

StatusOr<KvCacheSize> SizeKvCache(const EngineOptions& options, int64_t bytes_per_token, int64_t max_useful_tokens,
                                  int64_t available_bytes) {
  const double budget_bytes = options.kv_cache_memory_gib > 0
                                  ? options.kv_cache_memory_gib * double(int64_t{1} << 30)
                                  : options.kv_cache_memory_fraction * double(available_bytes);
  const int64_t block_bytes = bytes_per_token * options.block_size;
  KvCacheSize size;
  size.block_size = options.block_size;
  size.bytes_per_token = bytes_per_token;
  size.num_blocks = std::min<int64_t>(static_cast<int64_t>(budget_bytes / double(block_bytes)),
                                      (max_useful_tokens + options.block_size - 1) / options.block_size);
  if (size.num_blocks < 1)
    return Status::ResourceExhausted(fmt::format(
        "KV cache budget of {:.0f} bytes holds no block of {} tokens ({} bytes); raise --kv-cache-memory",
        budget_bytes, options.block_size, block_bytes));
  return size;
}

}  // namespace sieve::engine
