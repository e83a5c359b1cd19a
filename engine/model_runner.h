// ModelRunner: the middle of an engine step. Turns the scheduler's batch into the model's ForwardBatch,
// runs the forward pass on the paged KV cache, and samples each finished chunk's next token(s) and
// prompt logprobs from the logits (nano-vllm's model_runner.py).
#pragma once

#include <utility>
#include <vector>

#include "core/status.h"
#include "engine/sampler.h"
#include "engine/scheduler.h"
#include "model/model.h"

namespace sieve::engine {

class ModelRunner {
 public:
  ModelRunner(model::Model& model, model::PagedKvCache& cache, LogprobsMode logprobs_mode);

  // One result per chunk, in batch order.
  Status Run(const ScheduledBatch& batch, std::vector<ChunkResult>* results);
  // Copy-on-write of forked choices' partial blocks: (src, dst).
  void CopyBlocks(const std::vector<std::pair<int32_t, int32_t>>& copies);

 private:
  model::Model& model_;
  model::PagedKvCache& cache_;
  Sampler sampler_;
  int64_t vocab_size_;
  model::ForwardBatch forward_batch_;  // reused across steps
  model::ForwardOutput output_;
};

}  // namespace sieve::engine
