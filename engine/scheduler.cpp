// Scheduler: admission, chunked prefill, preemption by recompute, n > 1 forks and commit of a step.
#include "engine/scheduler.h"

#include <algorithm>

#include "core/logging.h"
#include "text/tokenizer.h"

namespace sieve::engine {

namespace {
int64_t CeilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }
}  // namespace

Scheduler::Scheduler(const SchedulerOptions& options, BlockPool* pool)
    : options_(options), pool_(pool), block_size_(pool->block_size()) {
  counters_.spec_accepted_per_pos.assign(options.num_speculative_tokens, 0);
}

void Scheduler::Add(std::unique_ptr<Request> request) {
  Request& r = *request;
  r.num_unfinished = static_cast<int>(r.choices.size());
  if (r.params.prompt_logprobs) r.prompt_logprobs.resize(r.num_prompt_tokens);
  // Choice 0 computes the prompt; the others fork from it when it is done (sharing its full blocks).
  for (auto& c : r.choices) c->status = c->index == 0 ? SequenceStatus::kWaiting : SequenceStatus::kAwaitingFork;
  waiting_.push_back(r.choices[0].get());
  counters_.prompt_tokens += r.num_prompt_tokens;
  requests_.emplace(r.id, std::move(request));
}

std::vector<RequestOutput> Scheduler::Abort(const std::string& request_id) {
  std::vector<RequestOutput> outputs;
  auto it = requests_.find(request_id);
  if (it == requests_.end()) return outputs;
  for (auto& seq : it->second->choices) {
    if (seq->status == SequenceStatus::kFinished) continue;
    RequestOutput out = NewOutput(*seq);
    out.finished = true;
    out.finish_reason = "abort";
    outputs.push_back(std::move(out));
    Finish(*seq);
  }
  requests_.erase(it);
  return outputs;
}

std::vector<RequestOutput> Scheduler::AbortAll() {
  std::vector<std::string> ids;
  for (const auto& [id, r] : requests_) ids.push_back(id);
  std::vector<RequestOutput> outputs;
  for (const std::string& id : ids) {
    std::vector<RequestOutput> o = Abort(id);
    outputs.insert(outputs.end(), std::make_move_iterator(o.begin()), std::make_move_iterator(o.end()));
  }
  return outputs;
}

ScheduledBatch Scheduler::Schedule() {
  ScheduledBatch batch;
  int64_t budget = options_.max_num_batched_tokens;
  bool preempted = false;

  // Running sequences first, in admission order: decodes and the rest of chunked prefills.
  for (size_t i = 0; i < running_.size() && budget > 0;) {
    Sequence& seq = *running_[i];
    const int64_t remaining = seq.num_tokens() - seq.num_computed_tokens;
    if (!options_.enable_chunked_prefill && remaining > budget) {
      ++i;
      continue;
    }
    const int64_t n = std::min(remaining, budget);
    // A decode with a draft also computes the draft tokens; without blocks for them it decodes plainly.
    const int64_t drafts = NumDraftTokens(seq, budget);
    if (drafts > 0 && AllocateSlots(seq, n + drafts)) {
      AddChunk(seq, n, batch);
      batch.chunks.back().num_draft_tokens = drafts;
      budget -= n + drafts;
      ++i;
      continue;
    }
    bool fits = true;
    while (!AllocateSlots(seq, n)) {
      Sequence& victim = *running_.back();
      Preempt(victim);
      preempted = true;
      if (&victim == &seq) {
        fits = false;
        break;
      }
    }
    if (!fits) break;
    AddChunk(seq, n, batch);
    budget -= n;
    ++i;
  }

  // Then waiting sequences, first come first served; none while this step had to preempt.
  while (!preempted && !waiting_.empty() && budget > 0) {
    Sequence& seq = *waiting_.front();
    if (!Admit(seq, budget, batch)) break;
    budget -= batch.chunks.back().num_tokens;
  }
  return batch;
}

// K drafts for a sequence that decodes one token and holds a draft, fewer when the step's token budget
// or max_model_len (the last draft's position must be below it) leave less room.
// A constrained sequence (structured output) decodes without drafts: verifying them would need its grammar
// advanced through each draft, which vLLM does and Sieve does not yet.
int64_t Scheduler::NumDraftTokens(const Sequence& seq, int64_t budget) const {
  if (!seq.first_draft || seq.grammar || seq.num_tokens() - seq.num_computed_tokens != 1) return 0;
  return std::max<int64_t>(0, std::min<int64_t>({options_.num_speculative_tokens, budget - 1,
                                                 options_.max_model_len - seq.num_tokens()}));
}

bool Scheduler::WantsPromptLogprobs(const Sequence& seq) const {
  const Request& r = *seq.request;
  return r.params.prompt_logprobs && !r.prompt_logprobs_sent && seq.index == 0;
}

bool Scheduler::Admit(Sequence& seq, int64_t budget, ScheduledBatch& batch) {
  Request& r = *seq.request;
  // The choices still to fork from this one take their seats when it is admitted.
  int64_t seats = 1;
  if (seq.index == 0 && seq.num_output_tokens() == 0)
    for (const auto& c : r.choices) seats += c->status == SequenceStatus::kAwaitingFork;
  if (num_running() + seats > options_.max_num_seqs) return false;

  // Prefix cache: the longest run of full blocks already cached, leaving at least one token to compute
  // (its logits give the next token). Prompt logprobs need every position's logits: no lookup.
  std::vector<int32_t> hits;
  uint64_t hash = 0, hash_before_last = 0;
  if (pool_->prefix_caching() && !WantsPromptLogprobs(seq)) {
    const int64_t max_hit_blocks = (seq.num_tokens() - 1) / block_size_;
    for (int64_t b = 0; b < max_hit_blocks; ++b) {
      std::span<const int32_t> tokens(seq.token_ids.data() + b * block_size_, block_size_);
      const uint64_t h = BlockPool::ChainHash(hash, tokens);
      std::optional<int32_t> block = pool_->FindCached(h, tokens);
      if (!block) break;
      hits.push_back(*block);
      hash_before_last = hash;
      hash = h;
    }
  }
  // The MTP layer's entry at a block's last position depends on the next block's first token, which the
  // block's hash does not cover: with speculative decoding the last hit is recomputed, so its MTP entries
  // come from this sequence's tokens (vLLM drops the last matched block for EAGLE the same way).
  if (options_.num_speculative_tokens > 0 && !hits.empty()) {
    hits.pop_back();
    hash = hash_before_last;
  }
  const int64_t num_cached = static_cast<int64_t>(hits.size()) * block_size_;
  const int64_t remaining = seq.num_tokens() - num_cached;
  if (!options_.enable_chunked_prefill && remaining > budget) return false;
  const int64_t n = std::min(remaining, budget);

  // Cached blocks nobody holds are counted as free by the pool: taking them uses free blocks too.
  int64_t free_hits = 0;
  for (int32_t b : hits) free_hits += pool_->ref_count(b) == 0;
  const int64_t new_blocks = CeilDiv(num_cached + n, block_size_) - static_cast<int64_t>(hits.size());
  if (pool_->num_free_blocks() < free_hits + new_blocks) return false;

  for (int32_t b : hits) pool_->Acquire(b);
  seq.block_table = hits;
  seq.num_computed_tokens = num_cached;
  seq.num_hashed_blocks = static_cast<int64_t>(hits.size());
  seq.last_block_hash = hash;
  SIEVE_CHECK(AllocateSlots(seq, n)) << "free blocks were counted before allocating";
  if (pool_->prefix_caching()) {
    counters_.prefix_cache_queries += seq.num_tokens();
    counters_.prefix_cache_hits += num_cached;
  }
  if (seq.index == 0 && !r.admitted) {
    r.admitted = true;
    r.num_cached_prompt_tokens = num_cached;
  }

  waiting_.pop_front();
  seq.status = SequenceStatus::kRunning;
  running_.push_back(&seq);
  AddChunk(seq, n, batch);
  return true;
}

void Scheduler::AddChunk(Sequence& seq, int64_t num_tokens, ScheduledBatch& batch) {
  ScheduledChunk c;
  c.seq = &seq;
  c.start_pos = seq.num_computed_tokens;
  c.num_tokens = num_tokens;
  c.all_logits = WantsPromptLogprobs(seq) && c.start_pos < seq.num_prompt_tokens;
  if (c.start_pos + num_tokens == seq.num_tokens()) {
    c.samplers.push_back(&seq);
    if (seq.index == 0 && seq.num_output_tokens() == 0)
      for (const auto& other : seq.request->choices)
        if (other->status == SequenceStatus::kAwaitingFork) c.samplers.push_back(other.get());
  }
  batch.chunks.push_back(std::move(c));
}

bool Scheduler::AllocateSlots(Sequence& seq, int64_t num_new_tokens) {
  const int64_t needed =
      CeilDiv(seq.num_computed_tokens + num_new_tokens, block_size_) - static_cast<int64_t>(seq.block_table.size());
  if (needed > pool_->num_free_blocks()) return false;
  for (int64_t i = 0; i < needed; ++i) seq.block_table.push_back(*pool_->Allocate());
  return true;
}

void Scheduler::Preempt(Sequence& seq) {
  FreeBlocks(seq);
  seq.status = SequenceStatus::kWaiting;
  Remove(running_, &seq);
  waiting_.push_front(&seq);
  ++counters_.preemptions;
}

// Reverse order, so a sequence's tail blocks are the first evicted from the prefix cache
// (vLLM frees blocks in reverse for the same reason).
void Scheduler::FreeBlocks(Sequence& seq) {
  for (auto it = seq.block_table.rbegin(); it != seq.block_table.rend(); ++it) pool_->Release(*it);
  seq.block_table.clear();
  seq.num_computed_tokens = 0;
  seq.num_hashed_blocks = 0;
  seq.last_block_hash = 0;
  seq.first_draft.reset();
  seq.first_draft_hidden.clear();
}

void Scheduler::ReleaseBlocksPastComputed(Sequence& seq) {
  const int64_t keep = CeilDiv(seq.num_computed_tokens, block_size_);
  while (static_cast<int64_t>(seq.block_table.size()) > keep) {
    pool_->Release(seq.block_table.back());
    seq.block_table.pop_back();
  }
}

// Hashes every block whose tokens are now all in the cache; the pool keeps them for later prefix hits.
void Scheduler::RegisterFullBlocks(Sequence& seq) {
  while ((seq.num_hashed_blocks + 1) * block_size_ <= seq.num_computed_tokens) {
    std::span<const int32_t> tokens(seq.token_ids.data() + seq.num_hashed_blocks * block_size_, block_size_);
    seq.last_block_hash = BlockPool::ChainHash(seq.last_block_hash, tokens);
    pool_->MarkFull(seq.block_table[seq.num_hashed_blocks], seq.last_block_hash, tokens);
    ++seq.num_hashed_blocks;
  }
}

CommitResult Scheduler::Commit(const ScheduledBatch& batch, std::vector<ChunkResult>& results) {
  SIEVE_CHECK(results.size() == batch.chunks.size()) << results.size() << " results for " << batch.chunks.size();
  CommitResult result;
  for (size_t i = 0; i < batch.chunks.size(); ++i) {
    const ScheduledChunk& c = batch.chunks[i];
    ChunkResult& r = results[i];
    Sequence& seq = *c.seq;
    seq.num_computed_tokens += c.num_tokens;
    if (c.num_draft_tokens > 0) {
      CommitVerify(c, r, result);
      continue;
    }
    RegisterFullBlocks(seq);
    Request& request = *seq.request;
    for (auto& [pos, lp] : r.prompt_logprobs) request.prompt_logprobs[pos] = std::move(lp);

    for (Sequence* child : c.samplers)
      if (child != &seq) Fork(seq, *child, result);
    for (size_t s = 0; s < c.samplers.size(); ++s) {
      Sequence& target = *c.samplers[s];
      RequestOutput out = NewOutput(target);
      AppendToken(target, r.samples[s], out);
      if (&target == &seq && !out.finished) {
        seq.first_draft = r.next_draft;
        seq.first_draft_hidden = std::move(r.next_draft_hidden);
      }
      result.outputs.push_back(std::move(out));
    }
    if (!c.samplers.empty() && request.params.prompt_logprobs) request.prompt_logprobs_sent = true;
  }
  // Requests are dropped only after the whole batch is committed: chunks may share a request.
  for (auto it = requests_.begin(); it != requests_.end();)
    it = it->second->num_unfinished == 0 ? requests_.erase(it) : std::next(it);
  return result;
}

void Scheduler::CommitVerify(const ScheduledChunk& c, ChunkResult& r, CommitResult& result) {
  Sequence& seq = *c.seq;
  const int64_t accepted = static_cast<int64_t>(r.samples.size()) - 1;
  ++counters_.spec_drafts;
  counters_.spec_draft_tokens += c.num_draft_tokens;
  counters_.spec_accepted_tokens += accepted;
  for (int64_t i = 0; i < accepted; ++i) ++counters_.spec_accepted_per_pos[i];

  RequestOutput out = NewOutput(seq);
  for (const SampleResult& sample : r.samples) {
    AppendToken(seq, sample, out);  // several tokens in one update, in order
    if (out.finished) break;        // tokens after a stop are dropped
  }
  if (!out.finished) {
    // The accepted drafts' KV entries are exact (the main model computed them); the rejected ones' are
    // not: the sequence ends at the accepted length and the next step overwrites those slots.
    seq.num_computed_tokens += accepted;
    ReleaseBlocksPastComputed(seq);
    RegisterFullBlocks(seq);
    seq.first_draft = r.next_draft;
    seq.first_draft_hidden = std::move(r.next_draft_hidden);
  }
  result.outputs.push_back(std::move(out));
}

// A forked choice starts where its parent's prompt ends: it shares the full blocks (reference counted)
// and gets its own copy of the partially filled last block, which both will keep writing.
void Scheduler::Fork(const Sequence& parent, Sequence& child, CommitResult& result) {
  const int64_t full = parent.num_computed_tokens / block_size_;
  const bool partial = parent.num_computed_tokens % block_size_ != 0;
  if (partial && pool_->num_free_blocks() == 0) {
    // No block for the copy: the child recomputes the prompt later (mostly prefix-cache hits).
    child.status = SequenceStatus::kWaiting;
    waiting_.push_front(&child);
    return;
  }
  for (int64_t b = 0; b < full; ++b) {
    pool_->Acquire(parent.block_table[b]);
    child.block_table.push_back(parent.block_table[b]);
  }
  if (partial) {
    const int32_t copy = *pool_->Allocate();
    result.block_copies.emplace_back(parent.block_table[full], copy);
    child.block_table.push_back(copy);
  }
  child.num_computed_tokens = parent.num_computed_tokens;
  child.num_hashed_blocks = parent.num_hashed_blocks;
  child.last_block_hash = parent.last_block_hash;
  child.status = SequenceStatus::kRunning;
  running_.push_back(&child);
}

RequestOutput Scheduler::NewOutput(const Sequence& seq) const {
  RequestOutput out;
  out.request_id = seq.request->id;
  out.index = seq.index;
  out.num_prompt_tokens = seq.num_prompt_tokens;
  out.num_cached_prompt_tokens = seq.request->num_cached_prompt_tokens;
  out.num_output_tokens = seq.num_output_tokens();
  return out;
}

void Scheduler::AppendToken(Sequence& seq, const SampleResult& sample, RequestOutput& out) {
  const Request& request = *seq.request;
  if (sample.no_allowed_token) return FinishUnsampleable(seq, out);
  seq.token_ids.push_back(sample.token_id);
  ++counters_.generation_tokens;
  out.num_output_tokens = seq.num_output_tokens();
  out.new_token_ids.push_back(sample.token_id);
  if (sample.logprob) out.logprobs.push_back(*sample.logprob);
  if (seq.num_output_tokens() == 1 && request.params.prompt_logprobs) out.prompt_logprobs = request.prompt_logprobs;

  AdvanceGrammar(seq, sample.token_id);
  std::optional<FinishReason> finish = seq.stop.CheckToken(sample.token_id, seq.num_output_tokens(), seq.num_tokens());
  std::string text;
  if (seq.detokenizer) {
    text = seq.detokenizer->Push(sample.token_id);
    if (finish) text += seq.detokenizer->Flush();
  }
  // A token that stops the choice (EOS, a stop token id) adds no text unless asked to (vLLM).
  const bool stopped_by_token = finish && finish->reason == "stop";
  std::optional<FinishReason> stop_string;
  out.text_delta += seq.stop.AppendText(stopped_by_token && !request.params.include_stop_str_in_output ? "" : text,
                                       seq.num_output_tokens(), &stop_string);
  if (stop_string) {
    finish = std::move(stop_string);
  } else if (finish) {
    out.text_delta += seq.stop.Flush();
  }
  if (!finish) return;
  out.finished = true;
  out.finish_reason = finish->reason;
  out.stop_reason = finish->stop_reason;
  Finish(seq);
}

// Structured output: the new token's bytes extend the document (the mask guaranteed they fit; EOS and
// stop token ids carry no text). Before the grammar applies, it waits for the end-of-reasoning token.
void Scheduler::AdvanceGrammar(Sequence& seq, int32_t token) {
  if (!seq.grammar) return;
  if (!seq.grammar_active) {
    seq.grammar_active = token == *seq.request->params.grammar_after_token_id;
    return;
  }
  const std::vector<int32_t>& stop_ids = seq.request->params.stop_token_ids;
  if (seq.tokenizer == nullptr || token == seq.stop.eos_token_id() || seq.tokenizer->IsSpecial(token) ||
      std::find(stop_ids.begin(), stop_ids.end(), token) != stop_ids.end())
    return;  // EOS or a stop token: it ends the choice
  const bool fits = seq.grammar->Feed(seq.tokenizer->IdBytes(token));
  SIEVE_CHECK(fits) << "token " << token << " was sampled outside the structured-output mask";
}

// The mask left nothing to sample: the document is complete but min_tokens forbids EOS ("stop"), or no
// token of the vocabulary can continue it ("abort": a vocabulary that cannot spell a needed byte).
void Scheduler::FinishUnsampleable(Sequence& seq, RequestOutput& out) {
  const bool complete = seq.grammar && seq.grammar->IsComplete();
  if (!complete) spdlog::warn("request {}: no token can continue its structured output; aborting it", seq.request->id);
  out.text_delta = seq.stop.Flush();
  if (seq.detokenizer) out.text_delta += seq.detokenizer->Flush();
  out.finished = true;
  out.finish_reason = complete ? "stop" : "abort";
  Finish(seq);
}

void Scheduler::Finish(Sequence& seq) {
  FreeBlocks(seq);
  if (seq.status == SequenceStatus::kRunning) Remove(running_, &seq);
  if (seq.status == SequenceStatus::kWaiting) Remove(waiting_, &seq);
  seq.status = SequenceStatus::kFinished;
  if (--seq.request->num_unfinished == 0) ++counters_.requests_finished;
}

void Scheduler::Remove(std::deque<Sequence*>& queue, const Sequence* seq) {
  auto it = std::find(queue.begin(), queue.end(), seq);
  if (it != queue.end()) queue.erase(it);
}

}  // namespace sieve::engine
