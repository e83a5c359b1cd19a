// Batch validation and flattening (see step_tokens.h).
#include "model/step_tokens.h"

#include <string>

namespace sieve::model {

StatusOr<StepTokens> MakeStepTokens(const ForwardBatch& batch, const ModelConfig& config, const PagedKvCache& cache,
                                    int64_t num_cache_layers) {
  if (cache.num_layers() < num_cache_layers)
    return Status::FailedPrecondition("kv cache has " + std::to_string(cache.num_layers()) + " layers, the model needs " +
                                      std::to_string(num_cache_layers));
  StepTokens step;
  step.batch = &batch;
  step.block_size = cache.block_size();
  step.seq_begin.push_back(0);
  for (size_t i = 0; i < batch.seqs.size(); ++i) {
    const SequenceChunk& s = batch.seqs[i];
    const std::string where = "seqs[" + std::to_string(i) + "]";
    if (s.token_ids.empty()) return Status::InvalidArgument(where + ": no tokens").WithParam(where);
    if (s.start_pos < 0) return Status::InvalidArgument(where + ": negative start_pos").WithParam(where);
    const int64_t end = s.start_pos + static_cast<int64_t>(s.token_ids.size());
    const int64_t blocks_needed = (end + cache.block_size() - 1) / cache.block_size();
    if (static_cast<int64_t>(s.block_table.size()) < blocks_needed)
      return Status::InvalidArgument(where + ": block table has " + std::to_string(s.block_table.size()) +
                                     " blocks, positions up to " + std::to_string(end) + " need " +
                                     std::to_string(blocks_needed))
          .WithParam(where);
    for (int64_t b = 0; b < blocks_needed; ++b)
      if (s.block_table[b] < 0 || s.block_table[b] >= cache.num_blocks())
        return Status::InvalidArgument(where + ": block id " + std::to_string(s.block_table[b]) + " outside [0, " +
                                       std::to_string(cache.num_blocks()) + ")")
            .WithParam(where);
    for (size_t t = 0; t < s.token_ids.size(); ++t) {
      if (s.token_ids[t] < 0 || s.token_ids[t] >= config.vocab_size)
        return Status::InvalidArgument(where + ": token id " + std::to_string(s.token_ids[t]) + " outside [0, " +
                                       std::to_string(config.vocab_size) + ")")
            .WithParam(where);
      step.token_ids.push_back(s.token_ids[t]);
      step.positions.push_back(s.start_pos + static_cast<int64_t>(t));
    }
    step.seq_begin.push_back(step.n_tokens());
  }
  return step;
}

}  // namespace sieve::model
