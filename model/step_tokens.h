// StepTokens: a ForwardBatch flattened into the token rows every layer works on ([n_tokens, ...], sequences
// back to back in batch order), with each token's position and KV-cache slot. Built once per step, after
// the batch has been validated against the model and the cache.
#pragma once

#include <cstdint>
#include <vector>

#include "core/status.h"
#include "model/config.h"
#include "model/forward_batch.h"
#include "model/paged_kv_cache.h"

namespace sieve::model {

struct CacheSlot {
  int64_t block = 0;
  int64_t slot = 0;
};

struct StepTokens {
  const ForwardBatch* batch = nullptr;
  int64_t block_size = 0;
  std::vector<int32_t> token_ids;  // [n_tokens]
  std::vector<int64_t> positions;  // [n_tokens] position within its sequence
  std::vector<int64_t> seq_begin;  // [n_seqs + 1] first token row of each sequence

  int64_t n_tokens() const { return static_cast<int64_t>(token_ids.size()); }
  int64_t n_seqs() const { return static_cast<int64_t>(batch->seqs.size()); }
  // Tokens of sequence `seq` in the cache after this step (start_pos + new tokens).
  int64_t context_len(int64_t seq) const {
    return batch->seqs[seq].start_pos + (seq_begin[seq + 1] - seq_begin[seq]);
  }
  // Where position `pos` of sequence `seq` lives in the paged cache.
  CacheSlot Slot(int64_t seq, int64_t pos) const {
    return {batch->seqs[seq].block_table[pos / block_size], pos % block_size};
  }
};

// Validates the batch (non-empty chunks, token ids < vocab_size, block tables covering every position with
// valid block ids, a cache with `num_cache_layers` layers) and flattens it. Errors name the sequence.
StatusOr<StepTokens> MakeStepTokens(const ForwardBatch& batch, const ModelConfig& config, const PagedKvCache& cache,
                                    int64_t num_cache_layers);

}  // namespace sieve::model
