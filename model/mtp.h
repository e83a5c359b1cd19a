// MtpLayer: DeepSeek-V3's multi-token-prediction module (DeepSeek-V3 report sec. 2.2, as vLLM's
// deepseek_mtp.py and SGLang's deepseek_nextn.py run it; the official inference code has none):
//   x = eh_proj([enorm(embed(t[i+1])) | hnorm(H[i])])   (embedding first; H = main model's final-norm hidden)
//   x = block(x) at position i;  logits = shared_head.head(shared_head.norm(x))
#pragma once

#include <vector>

#include "model/decoder_layer.h"
#include "model/vocab_parallel.h"

namespace sieve::model {

class MtpLayer {
 public:
  // `layer`: checkpoint index of the MTP layer (num_hidden_layers for the first).
  MtpLayer(const Checkpoint& ckpt, int64_t layer, const YarnRope& rope, const ModelShard& shard);
  // Token rows of `step` are t[i+1]; main_hidden [n, hidden] is H[i]. Writes normed [n, hidden], the
  // shared_head.norm output (the head's input). With `zero_first_embedding`, positions 0 get a zero
  // embedding as vLLM does ("not needed by MTP"); SGLang and the default do not.
  void Forward(const StepTokens& step, const float* main_hidden, int64_t cache_layer, PagedKvCache& cache,
               const ForwardContext& ctx, bool zero_first_embedding, float* normed) const;
  // logits [n, vocab] from rows of `normed`.
  void Logits(const float* normed, int64_t n, float* logits, const ForwardContext& ctx) const;

 private:
  int64_t hidden_;
  float eps_;
  VocabParallel embed_, head_;     // [vocab, hidden], this rank's rows (split like the main model's)
  kernels::WeightMatrix eh_proj_;  // [hidden, 2*hidden]
  std::vector<float> enorm_, hnorm_, head_norm_;  // [hidden]
  DecoderLayer block_;
};

}  // namespace sieve::model
