// ScriptedModel: a model::Model whose next token is a known function of the tokens *read back from the
// paged KV cache*, and whose MTP layer drafts that function correctly except at chosen states. Engine
// tests use it to check speculative decoding's bookkeeping independently of real weights: a rejected
// draft left in the cache, a block freed too early or a hidden row taken from the wrong position changes
// the output, and the acceptance rate is high enough (about 2/3 per draft) to exercise partial accepts.
#pragma once

#include <algorithm>
#include <cmath>
#include <vector>

#include "model/checkpoint_presets.h"
#include "model/model.h"

namespace sieve::engine::test_support {

class ScriptedModel final : public model::Model {
 public:
  static constexpr int64_t kVocab = 97;
  static constexpr int64_t kModulus = 9973;

  ScriptedModel() : config_(model::FindCheckpointPreset("tiny").value().config) {
    config_.vocab_size = kVocab;
    config_.eos_token_id = 1;
    config_.max_position_embeddings = 4096;
  }

  const model::ModelConfig& config() const override { return config_; }
  int64_t num_cache_layers() const override { return config_.num_hidden_layers + 1; }

  // The state after position p: sum over q <= p of token[q] * (q + 1), mod kModulus.
  static int64_t NextState(int64_t state, int32_t token, int64_t pos) { return (state + token * (pos + 1)) % kModulus; }
  static int32_t NextToken(int64_t state) { return static_cast<int32_t>(2 + (state * 31 + 7) % (kVocab - 2)); }
  // The MTP layer drafts wrongly at every third state.
  static int32_t DraftToken(int64_t state) {
    const int32_t t = NextToken(state);
    return state % 3 == 0 ? static_cast<int32_t>(2 + (t - 1) % (kVocab - 2)) : t;
  }

  Status Forward(const model::ForwardBatch& batch, model::PagedKvCache& cache, model::ForwardOutput* out) override {
    std::vector<float> logits, hidden, all_hidden;
    out->row_begin.clear();
    for (const model::SequenceChunk& s : batch.seqs) {
      out->row_begin.push_back(static_cast<int64_t>(logits.size()) / kVocab);
      for (size_t k = 0; k < s.token_ids.size(); ++k)
        SIEVE_RETURN_IF_ERROR(WriteToken(cache, 0, s, s.start_pos + static_cast<int64_t>(k), s.token_ids[k]));
      for (size_t k = 0; k < s.token_ids.size(); ++k) {
        const int64_t pos = s.start_pos + static_cast<int64_t>(k);
        int64_t state = 0;
        for (int64_t q = 0; q <= pos; ++q) state = NextState(state, ReadToken(cache, s, q), q);
        if (batch.all_hidden) AppendHidden(state, &all_hidden);
        const bool wanted = s.logits == model::SequenceChunk::Logits::kAll ||
                            (s.logits == model::SequenceChunk::Logits::kLast && k + 1 == s.token_ids.size());
        if (!wanted) continue;
        AppendLogits(NextToken(state), &logits);
        AppendHidden(state, &hidden);
      }
    }
    out->row_begin.push_back(static_cast<int64_t>(logits.size()) / kVocab);
    Fill(logits, kVocab, &out->logits);
    Fill(hidden, config_.hidden_size, &out->hidden);
    Fill(all_hidden, config_.hidden_size, &out->all_hidden);
    return Status::Ok();
  }

  // Token rows are t[p+1], hidden rows the state after p; the output hidden is the state after p+1.
  Status ForwardMtp(const model::ForwardBatch& batch, const Tensor& hidden, model::PagedKvCache& cache,
                    model::ForwardOutput* out) override {
    std::vector<float> logits, out_hidden;
    out->row_begin.clear();
    int64_t row = 0;
    for (const model::SequenceChunk& s : batch.seqs) {
      out->row_begin.push_back(static_cast<int64_t>(logits.size()) / kVocab);
      for (size_t k = 0; k < s.token_ids.size(); ++k, ++row) {
        const int64_t pos = s.start_pos + static_cast<int64_t>(k);
        SIEVE_RETURN_IF_ERROR(WriteToken(cache, config_.num_hidden_layers, s, pos, s.token_ids[k]));
        const auto state_before = static_cast<int64_t>(hidden.ptr()[row * config_.hidden_size]);
        const int64_t state = NextState(state_before, s.token_ids[k], pos + 1);
        const bool wanted = s.logits == model::SequenceChunk::Logits::kAll ||
                            (s.logits == model::SequenceChunk::Logits::kLast && k + 1 == s.token_ids.size());
        if (!wanted) continue;
        AppendLogits(DraftToken(state), &logits);
        AppendHidden(state, &out_hidden);
      }
    }
    out->row_begin.push_back(static_cast<int64_t>(logits.size()) / kVocab);
    Fill(logits, kVocab, &out->logits);
    Fill(out_hidden, config_.hidden_size, &out->hidden);
    return Status::Ok();
  }

 private:
  Status WriteToken(model::PagedKvCache& cache, int64_t layer, const model::SequenceChunk& s, int64_t pos,
                    int32_t token) const {
    const int64_t b = pos / cache.block_size();
    if (b >= static_cast<int64_t>(s.block_table.size()))
      return Status::Internal("position " + std::to_string(pos) + " has no block");
    std::vector<float> latent(config_.kv_lora_rank, 0.0f), rope(config_.qk_rope_head_dim, 0.0f);
    latent[0] = static_cast<float>(token);
    cache.WriteLatent(layer, s.block_table[b], pos % cache.block_size(), latent.data(), rope.data());
    return Status::Ok();
  }
  int32_t ReadToken(const model::PagedKvCache& cache, const model::SequenceChunk& s, int64_t pos) const {
    std::vector<float> latent(config_.kv_lora_rank), rope(config_.qk_rope_head_dim);
    cache.ReadLatent(0, s.block_table[pos / cache.block_size()], pos % cache.block_size(), latent.data(), rope.data());
    return static_cast<int32_t>(latent[0]);
  }
  // A smooth distribution peaked at `token` (so sampling tests have several likely tokens).
  static void AppendLogits(int32_t token, std::vector<float>* logits) {
    for (int64_t v = 0; v < kVocab; ++v) {
      const int64_t d = std::abs(v - token);
      logits->push_back(-static_cast<float>(std::min(d, kVocab - d)));
    }
  }
  void AppendHidden(int64_t state, std::vector<float>* hidden) const {
    hidden->push_back(static_cast<float>(state));
    hidden->insert(hidden->end(), config_.hidden_size - 1, 0.0f);
  }
  static void Fill(const std::vector<float>& rows, int64_t width, Tensor* t) {
    *t = Tensor({static_cast<int64_t>(rows.size()) / width, width});
    std::copy(rows.begin(), rows.end(), t->ptr());
  }

  model::ModelConfig config_;
};

}  // namespace sieve::engine::test_support
