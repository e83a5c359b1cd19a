// ModelRunner: the middle of an engine step. Turns the scheduler's batch into the model's ForwardBatch,
// runs the forward pass on the paged KV cache, and samples each finished chunk's next token(s) and
// prompt logprobs from the logits (nano-vllm's model_runner.py).
//
// With speculative decoding (engine/speculative_config.h) a step is, as vLLM's EAGLE proposer and
// SGLang's EAGLE worker run DeepSeek's MTP layer (vllm/v1/spec_decode/eagle.py):
//   1. draft: for each chunk with draft tokens, the MTP layer extends the sequence's first draft
//      autoregressively, feeding its own hidden row back (one MTP forward per draft position);
//   2. verify: one main-model forward over every chunk, a decode's real token followed by its drafts;
//      the longest accepted prefix plus one token sampled after it are emitted (Sampler::Verify);
//   3. propose: the MTP layer caches every position the main model just made final (tokens shifted by
//      one, the main model's hidden rows) and, for sequences that sampled, drafts the next step's first
//      token from the last of them. Its cache is thus complete for every computed position.
#pragma once

#include <utility>
#include <vector>

#include "core/status.h"
#include "engine/sampler.h"
#include "engine/scheduler.h"
#include "model/model.h"
#include "text/token_trie.h"

namespace sieve::engine {

class ModelRunner {
 public:
  // `tokenizer` (may be null) spells the vocabulary for structured-output masks; its trie is built on the
  // first constrained step (about half a second for 129k tokens), so engines that never constrain skip it.
  // `num_speculative_tokens` > 0 needs a model loaded with ModelOptions::enable_mtp.
  ModelRunner(model::Model& model, model::PagedKvCache& cache, LogprobsMode logprobs_mode,
              const text::Tokenizer* tokenizer, int num_speculative_tokens = 0);

  // One result per chunk, in batch order.
  Status Run(const ScheduledBatch& batch, std::vector<ChunkResult>* results);
  // Copy-on-write of forked choices' partial blocks: (src, dst).
  // A model call on an empty batch: a data-parallel replica without work still joins the MoE layers'
  // exchanges of the replicas that step (engine/replica_sync.h). A failure ends the job, as it does in
  // lock-step serving.
  void RunIdle();
  void CopyBlocks(const std::vector<std::pair<int32_t, int32_t>>& copies);

 private:
  // Step 1: drafts[i] = the draft tokens of chunk i (empty for chunks without).
  Status Draft(const ScheduledBatch& batch, std::vector<std::vector<int32_t>>* drafts);
  // Step 2's sampling for chunk i from its logits rows (first_row ..).
  void SampleChunk(const ScheduledChunk& c, const std::vector<int32_t>& drafts, int64_t first_row, ChunkResult& r);
  // Step 3: MTP entries for the computed positions, and next_draft for the chunks that sampled.
  Status Propose(const ScheduledBatch& batch, std::vector<ChunkResult>& results);
  // The allowed-token bitmask [ceil(vocab_size / 64)] of a constrained sequence, for its sampling only.
  std::span<const uint64_t> AllowedTokens(const Sequence& seq);

  model::Model& model_;
  model::PagedKvCache& cache_;
  Sampler sampler_;
  int64_t vocab_size_, hidden_size_;
  int num_speculative_tokens_;
  model::ForwardBatch forward_batch_, mtp_batch_;  // reused across steps
  model::ForwardOutput output_, mtp_output_;
  std::vector<int32_t> context_ids_;                // output ids + accepted drafts while verifying
  const text::Tokenizer* tokenizer_;
  std::unique_ptr<text::TokenTrie> vocabulary_;  // built on first use
  std::unique_ptr<text::TokenMasker> masker_;
  std::vector<uint64_t> allowed_;
  int32_t eos_token_id_;
};

}  // namespace sieve::engine
