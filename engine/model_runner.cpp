// ModelRunner: ForwardBatch construction, the model call, and sampling from the returned rows.
#include "engine/model_runner.h"

#include <fmt/format.h>

namespace sieve::engine {

ModelRunner::ModelRunner(model::Model& model, model::PagedKvCache& cache, LogprobsMode logprobs_mode)
    : model_(model),
      cache_(cache),
      sampler_(model.config().vocab_size, static_cast<int32_t>(model.config().eos_token_id), logprobs_mode),
      vocab_size_(model.config().vocab_size) {}

Status ModelRunner::Run(const ScheduledBatch& batch, std::vector<ChunkResult>* results) {
  using Logits = model::SequenceChunk::Logits;
  forward_batch_.seqs.resize(batch.chunks.size());
  for (size_t i = 0; i < batch.chunks.size(); ++i) {
    const ScheduledChunk& c = batch.chunks[i];
    model::SequenceChunk& s = forward_batch_.seqs[i];
    const auto first = c.seq->token_ids.begin() + c.start_pos;
    s.token_ids.assign(first, first + c.num_tokens);
    s.start_pos = c.start_pos;
    s.block_table = c.seq->block_table;
    s.logits = c.all_logits ? Logits::kAll : c.samplers.empty() ? Logits::kNone : Logits::kLast;
  }
  SIEVE_RETURN_IF_ERROR(model_.Forward(forward_batch_, cache_, &output_));

  results->assign(batch.chunks.size(), ChunkResult{});
  for (size_t i = 0; i < batch.chunks.size(); ++i) {
    const ScheduledChunk& c = batch.chunks[i];
    if (!c.all_logits && c.samplers.empty()) continue;
    ChunkResult& r = (*results)[i];
    const Sequence& seq = *c.seq;
    const int64_t first_row = output_.row_begin[i];
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
    const int64_t last = c.all_logits ? c.num_tokens - 1 : 0;
    for (Sequence* target : c.samplers) {
      const SamplingContext ctx{target->request->params, target->prompt_ids(), target->output_ids(), target->rng};
      r.samples.push_back(sampler_.Sample(row(last), ctx));
    }
  }
  return Status::Ok();
}

void ModelRunner::CopyBlocks(const std::vector<std::pair<int32_t, int32_t>>& copies) {
  for (const auto& [src, dst] : copies) cache_.CopyBlock(src, dst);
}

}  // namespace sieve::engine
