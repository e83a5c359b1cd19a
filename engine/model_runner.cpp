// ModelRunner: ForwardBatch construction, the model calls, and sampling from the returned rows.
#include "engine/model_runner.h"

#include <fmt/format.h>

#include <algorithm>

#include "parallel/mpi_runtime.h"

namespace sieve::engine {

namespace {

using Logits = model::SequenceChunk::Logits;

int32_t ArgMax(std::span<const float> row) {
  return static_cast<int32_t>(std::max_element(row.begin(), row.end()) - row.begin());  // lowest id on ties
}

}  // namespace

ModelRunner::ModelRunner(model::Model& model, model::PagedKvCache& cache, LogprobsMode logprobs_mode,
                         const text::Tokenizer* tokenizer, int num_speculative_tokens)
    : model_(model),
      cache_(cache),
      sampler_(model.config().vocab_size, static_cast<int32_t>(model.config().eos_token_id), logprobs_mode),
      vocab_size_(model.config().vocab_size),
      hidden_size_(model.config().hidden_size),
      num_speculative_tokens_(num_speculative_tokens),
      tokenizer_(tokenizer),
      allowed_(static_cast<size_t>((vocab_size_ + 63) / 64)),
      eos_token_id_(static_cast<int32_t>(model.config().eos_token_id)) {}

// Tokens past the tokenizer's vocabulary (padded rows) never match; EOS and the stop token ids are
// allowed exactly when the document is complete.
std::span<const uint64_t> ModelRunner::AllowedTokens(const Sequence& seq) {
  if (!seq.grammar || !seq.grammar_active || tokenizer_ == nullptr) return {};
  if (!masker_) {
    vocabulary_ = std::make_unique<text::TokenTrie>(text::TokenTrie::FromTokenizer(*tokenizer_));
    masker_ = std::make_unique<text::TokenMasker>(*vocabulary_);
  }
  masker_->Compute(*seq.grammar, allowed_);
  if (seq.grammar->IsComplete()) {
    auto allow = [&](int32_t t) {
      if (t >= 0 && t < vocab_size_) allowed_[static_cast<size_t>(t) / 64] |= uint64_t{1} << (t % 64);
    };
    allow(eos_token_id_);
    for (int32_t t : seq.request->params.stop_token_ids) allow(t);
  }
  return allowed_;
}

Status ModelRunner::Run(const ScheduledBatch& batch, std::vector<ChunkResult>* results) {
  std::vector<std::vector<int32_t>> drafts(batch.chunks.size());
  if (num_speculative_tokens_ > 0) SIEVE_RETURN_IF_ERROR(Draft(batch, &drafts));

  forward_batch_.seqs.resize(batch.chunks.size());
  forward_batch_.all_hidden = num_speculative_tokens_ > 0;
  for (size_t i = 0; i < batch.chunks.size(); ++i) {
    const ScheduledChunk& c = batch.chunks[i];
    model::SequenceChunk& s = forward_batch_.seqs[i];
    const auto first = c.seq->token_ids.begin() + c.start_pos;
    s.token_ids.assign(first, first + c.num_tokens);
    s.token_ids.insert(s.token_ids.end(), drafts[i].begin(), drafts[i].end());
    s.start_pos = c.start_pos;
    s.block_table = c.seq->block_table;
    s.logits = c.all_logits || !drafts[i].empty() ? Logits::kAll : c.samplers.empty() ? Logits::kNone : Logits::kLast;
  }
  SIEVE_RETURN_IF_ERROR(model_.Forward(forward_batch_, cache_, &output_));

  results->assign(batch.chunks.size(), ChunkResult{});
  for (size_t i = 0; i < batch.chunks.size(); ++i) SampleChunk(batch.chunks[i], drafts[i], output_.row_begin[i], (*results)[i]);
  if (num_speculative_tokens_ > 0) SIEVE_RETURN_IF_ERROR(Propose(batch, *results));
  return Status::Ok();
}

void ModelRunner::SampleChunk(const ScheduledChunk& c, const std::vector<int32_t>& drafts, int64_t first_row,
                              ChunkResult& r) {
  if (!c.all_logits && c.samplers.empty()) return;
  const Sequence& seq = *c.seq;
  auto row = [&](int64_t k) {
    return std::span<const float>(output_.logits.ptr() + (first_row + k) * vocab_size_, vocab_size_);
  };
  if (c.all_logits) {
    // Row k predicts the token at start_pos + k + 1: the logprob of that prompt token.
    const int num_top = *seq.request->params.prompt_logprobs;
    for (int64_t k = 0; k < c.num_tokens; ++k) {
      const int64_t pos = c.start_pos + k + 1;
      if (pos < seq.num_prompt_tokens) r.prompt_logprobs.emplace_back(pos, sampler_.Logprob(row(k), seq.token_ids[pos], num_top));
    }
  }
  if (!drafts.empty()) {
    // Row j predicts the token after draft j (row 0: after the real token). Each row is sampled in the
    // context of the drafts accepted before it (penalties, min_tokens), as a plain decode would be.
    Sequence& target = *c.samplers.front();
    context_ids_.assign(target.output_ids().begin(), target.output_ids().end());
    for (size_t j = 0; j <= drafts.size(); ++j) {
      const SamplingContext ctx{target.request->params, target.prompt_ids(), context_ids_, target.rng};
      r.samples.push_back(j < drafts.size() ? sampler_.Verify(row(j), ctx, drafts[j]) : sampler_.Sample(row(j), ctx));
      if (j == drafts.size() || r.samples.back().token_id != drafts[j]) break;
      context_ids_.push_back(drafts[j]);
    }
    return;
  }
  const int64_t last = c.all_logits ? c.num_tokens - 1 : 0;
  for (Sequence* target : c.samplers) {
    const SamplingContext ctx{target->request->params, target->prompt_ids(), target->output_ids(), target->rng,
                              AllowedTokens(*target)};
    r.samples.push_back(sampler_.Sample(row(last), ctx));
  }
}

// Draft position j (j >= 1) of a chunk starting at start_pos (the real token's position) is computed by
// the MTP layer at position start_pos + j - 1 from draft j-1 and the hidden row that produced it.
Status ModelRunner::Draft(const ScheduledBatch& batch, std::vector<std::vector<int32_t>>* drafts) {
  std::vector<size_t> active;  // chunks still drafting
  std::vector<float> hidden;   // [active, hidden_size]: the hidden row behind each one's last draft
  for (size_t i = 0; i < batch.chunks.size(); ++i) {
    const ScheduledChunk& c = batch.chunks[i];
    if (c.num_draft_tokens == 0) continue;
    (*drafts)[i].push_back(*c.seq->first_draft);
    active.push_back(i);
    hidden.insert(hidden.end(), c.seq->first_draft_hidden.begin(), c.seq->first_draft_hidden.end());
  }
  for (int64_t j = 1; !active.empty(); ++j) {
    // Chunks whose drafts are complete leave the batch (fewer drafts when the budget was short).
    std::vector<size_t> next;
    std::vector<float> next_hidden;
    for (size_t a = 0; a < active.size(); ++a) {
      if (j >= batch.chunks[active[a]].num_draft_tokens) continue;
      next.push_back(active[a]);
      next_hidden.insert(next_hidden.end(), hidden.begin() + a * hidden_size_, hidden.begin() + (a + 1) * hidden_size_);
    }
    active.swap(next);
    if (active.empty()) break;
    mtp_batch_.seqs.resize(active.size());
    for (size_t a = 0; a < active.size(); ++a) {
      const ScheduledChunk& c = batch.chunks[active[a]];
      model::SequenceChunk& s = mtp_batch_.seqs[a];
      s.token_ids.assign(1, (*drafts)[active[a]].back());
      s.start_pos = c.start_pos + j - 1;
      s.block_table = c.seq->block_table;
      s.logits = Logits::kLast;
    }
    Tensor h({static_cast<int64_t>(active.size()), hidden_size_});
    std::copy(next_hidden.begin(), next_hidden.end(), h.ptr());
    SIEVE_RETURN_IF_ERROR(model_.ForwardMtp(mtp_batch_, h, cache_, &mtp_output_));
    for (size_t a = 0; a < active.size(); ++a)
      (*drafts)[active[a]].push_back(
          ArgMax({mtp_output_.logits.ptr() + a * vocab_size_, static_cast<size_t>(vocab_size_)}));
    hidden.assign(mtp_output_.hidden.ptr(), mtp_output_.hidden.ptr() + mtp_output_.hidden.numel());
  }
  return Status::Ok();
}

// The MTP layer at position p reads token p+1 and the main model's hidden row of position p (DeepSeek-V3
// report sec. 2.2), so it caches a chunk's positions once the token after each is known: the prompt's
// next token, or what this step sampled. The last of them drafts the token after the sampled ones.
Status ModelRunner::Propose(const ScheduledBatch& batch, std::vector<ChunkResult>& results) {
  mtp_batch_.seqs.resize(batch.chunks.size());
  std::vector<float> hidden;  // [positions, hidden_size]
  int64_t token_begin = 0;    // chunk i's first row in output_.all_hidden
  for (size_t i = 0; i < batch.chunks.size(); ++i) {
    const ScheduledChunk& c = batch.chunks[i];
    const ChunkResult& r = results[i];
    model::SequenceChunk& s = mtp_batch_.seqs[i];
    // Tokens at positions start_pos + 1 ..: the known ones, then the emitted ones (the sequence's own).
    const auto first = c.seq->token_ids.begin() + c.start_pos + 1;
    const auto known_end = c.seq->token_ids.begin() + std::min(c.start_pos + c.num_tokens + 1, c.seq->num_tokens());
    s.token_ids.assign(first, known_end);
    if (!c.samplers.empty()) {
      const size_t emitted = c.num_draft_tokens > 0 ? r.samples.size() : 1;
      for (size_t k = 0; k < emitted; ++k) s.token_ids.push_back(r.samples[k].token_id);
    }
    s.start_pos = c.start_pos;
    s.block_table = c.seq->block_table;
    s.logits = c.samplers.empty() ? Logits::kNone : Logits::kLast;
    const float* rows = output_.all_hidden.ptr() + token_begin * hidden_size_;
    hidden.insert(hidden.end(), rows, rows + static_cast<int64_t>(s.token_ids.size()) * hidden_size_);
    token_begin += c.num_tokens + c.num_draft_tokens;
  }
  Tensor h({static_cast<int64_t>(hidden.size()) / hidden_size_, hidden_size_});
  std::copy(hidden.begin(), hidden.end(), h.ptr());
  SIEVE_RETURN_IF_ERROR(model_.ForwardMtp(mtp_batch_, h, cache_, &mtp_output_));
  for (size_t i = 0; i < batch.chunks.size(); ++i) {
    if (batch.chunks[i].samplers.empty()) continue;
    const int64_t row = mtp_output_.row_begin[i];
    results[i].next_draft = ArgMax({mtp_output_.logits.ptr() + row * vocab_size_, static_cast<size_t>(vocab_size_)});
    const float* hrow = mtp_output_.hidden.ptr() + row * hidden_size_;
    results[i].next_draft_hidden.assign(hrow, hrow + hidden_size_);
  }
  return Status::Ok();
}

void ModelRunner::RunIdle() {
  model::ForwardOutput out;
  if (Status s = model_.Forward(model::ForwardBatch{}, cache_, &out); !s.ok()) parallel::AbortJob(s);
}

void ModelRunner::CopyBlocks(const std::vector<std::pair<int32_t, int32_t>>& copies) {
  model_.CopyCacheBlocks(copies, cache_);
}

}  // namespace sieve::engine
