// Scheduler: continuous batching over waiting and running sequences (vLLM v1's unified token budget,
// vllm/v1/core/sched/scheduler.py; nano-vllm's engine/scheduler.py). Each step it gives every running
// sequence its next tokens (one decode token, or the next prefill chunk) and admits waiting sequences
// while the token budget, --max-num-seqs and free blocks allow. When a running sequence needs a block
// and none is free, the latest-admitted running sequence is preempted by recompute: its blocks are freed
// and it waits at the front of the queue to prefill its tokens again (mostly prefix-cache hits).
// Single-threaded: owned by the step loop.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "engine/block_pool.h"
#include "engine/sampler.h"
#include "engine/sequence.h"

namespace sieve::engine {

struct SchedulerOptions {
  int64_t max_num_seqs = 256;
  int64_t max_num_batched_tokens = 8192;
  int64_t max_model_len = 0;         // a sequence ends with "length" here; must fit the cache alone
  bool enable_chunked_prefill = true;
  int num_speculative_tokens = 0;    // K: MTP draft tokens verified per decode step (0: off)
};

// One sequence's share of a step.
struct ScheduledChunk {
  Sequence* seq = nullptr;
  int64_t start_pos = 0;             // tokens already cached
  int64_t num_tokens = 0;            // tokens computed this step: seq->token_ids[start_pos, start_pos + n)
  bool all_logits = false;           // every position's logits (prompt logprobs)
  // Sequences sampling their next token from this chunk's last row: none for a non-final prefill chunk;
  // the sequence itself, then, when this chunk completes an n > 1 prompt, the choices forked from it.
  std::vector<Sequence*> samplers;
  // Speculative decoding: draft tokens verified after the chunk's one real token, at positions
  // start_pos + 1 .. start_pos + num_draft_tokens (block table slots are allocated for them).
  int64_t num_draft_tokens = 0;
};

struct ScheduledBatch {
  std::vector<ScheduledChunk> chunks;
  bool empty() const { return chunks.empty(); }
};

// What the step computed for one chunk.
struct ChunkResult {
  // One per chunk.samplers; for a chunk with draft tokens (one sampler), the accepted drafts then the
  // token sampled after them (the correction or the bonus token), in order.
  std::vector<SampleResult> samples;
  // Speculative decoding: the MTP layer's first draft for the sequence's next step, and its hidden row.
  std::optional<int32_t> next_draft;
  std::vector<float> next_draft_hidden;
  // (position, logprob of prompt token `position`), for all_logits chunks.
  std::vector<std::pair<int64_t, TokenLogprob>> prompt_logprobs;
};

struct CommitResult {
  std::vector<RequestOutput> outputs;
  // (src, dst) KV blocks to copy before the next step: the partial last prompt block of a forked choice.
  std::vector<std::pair<int32_t, int32_t>> block_copies;
};

struct SchedulerCounters {
  int64_t prompt_tokens = 0;
  int64_t generation_tokens = 0;
  int64_t prefix_cache_queries = 0;  // tokens looked up
  int64_t prefix_cache_hits = 0;     // tokens found
  int64_t preemptions = 0;
  int64_t requests_finished = 0;
  // Speculative decoding (vLLM's spec_decode counters): verify chunks, drafts proposed and accepted.
  int64_t spec_drafts = 0;
  int64_t spec_draft_tokens = 0;
  int64_t spec_accepted_tokens = 0;
  std::vector<int64_t> spec_accepted_per_pos;  // [K]: how often draft i (0-based) was accepted
};

class Scheduler {
 public:
  Scheduler(const SchedulerOptions& options, BlockPool* pool);

  // Queues a validated request (its choices already built).
  void Add(std::unique_ptr<Request> request);
  // Ends every unfinished choice of the request with "abort" and frees its blocks; no-op if unknown.
  std::vector<RequestOutput> Abort(const std::string& request_id);
  // Aborts everything (shutdown, or a step that failed).
  std::vector<RequestOutput> AbortAll();

  ScheduledBatch Schedule();
  // Advances the scheduled sequences by what the step computed: appends sampled tokens, applies the stop
  // rules, forks n > 1 choices, frees finished sequences. `results` is parallel to batch.chunks.
  CommitResult Commit(const ScheduledBatch& batch, std::vector<ChunkResult>& results);

  bool HasWork() const { return !running_.empty() || !waiting_.empty(); }
  bool HasRequest(const std::string& request_id) const { return requests_.count(request_id) != 0; }
  int64_t num_running() const { return static_cast<int64_t>(running_.size()); }
  int64_t num_waiting() const { return static_cast<int64_t>(waiting_.size()); }
  const SchedulerCounters& counters() const { return counters_; }

 private:
  bool WantsPromptLogprobs(const Sequence& seq) const;
  // Grows the block table to cover `num_new_tokens` more tokens; false (and no change) if blocks run out.
  bool AllocateSlots(Sequence& seq, int64_t num_new_tokens);
  // Admits the front of the waiting queue with at most `budget` tokens; false if it does not fit now.
  bool Admit(Sequence& seq, int64_t budget, ScheduledBatch& batch);
  void AddChunk(Sequence& seq, int64_t num_tokens, ScheduledBatch& batch);
  void Preempt(Sequence& seq);
  void FreeBlocks(Sequence& seq);
  void RegisterFullBlocks(Sequence& seq);
  void Fork(const Sequence& parent, Sequence& child, CommitResult& result);
  void AppendToken(Sequence& seq, const SampleResult& sample, RequestOutput& out);
  // Commit of a chunk with draft tokens: appends the accepted drafts and the token after them, then rolls
  // the cache back to the accepted length (rejected drafts' slots are dropped, emptied blocks freed).
  void CommitVerify(const ScheduledChunk& c, ChunkResult& r, CommitResult& result);
  // Releases the blocks past the one holding the last computed token (after rejected drafts).
  void ReleaseBlocksPastComputed(Sequence& seq);
  int64_t NumDraftTokens(const Sequence& seq, int64_t budget) const;
  RequestOutput NewOutput(const Sequence& seq) const;
  void Finish(Sequence& seq);
  void AdvanceGrammar(Sequence& seq, int32_t token);
  void FinishUnsampleable(Sequence& seq, RequestOutput& out);
  void Remove(std::deque<Sequence*>& queue, const Sequence* seq);

  SchedulerOptions options_;
  BlockPool* pool_;
  int64_t block_size_;
  std::deque<Sequence*> waiting_;
  std::deque<Sequence*> running_;  // admission order: the back is preempted first
  std::unordered_map<std::string, std::unique_ptr<Request>> requests_;
  SchedulerCounters counters_;
};

}  // namespace sieve::engine
