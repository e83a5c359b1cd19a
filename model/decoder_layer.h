// DecoderLayer: one transformer block (DeepSeek-V3 inference/model.py, class Block):
//   h += attn(attn_norm(h));  h += ffn(ffn_norm(h))
// with MLA (+ indexer) attention and a dense SwiGLU FFN (first `first_k_dense_replace` layers) or DeepSeekMoE.
#pragma once

#include <memory>
#include <vector>

#include "model/mla_attention.h"
#include "model/mlp.h"
#include "model/model_shard.h"
#include "model/moe.h"

namespace sieve::model {

class DecoderLayer {
 public:
  // `layer`: checkpoint layer index (the MTP block is layer num_hidden_layers); `shard`: this rank's part.
  DecoderLayer(const Checkpoint& ckpt, int64_t layer, const YarnRope& rope, const ModelShard& shard);
  // h [n, hidden], updated in place (the residual stream).
  void Forward(const StepTokens& step, float* h, int64_t cache_layer, PagedKvCache& cache,
               const ForwardContext& ctx) const;

 private:
  int64_t hidden_;
  float eps_;
  std::vector<float> attn_norm_, ffn_norm_;  // input_layernorm, post_attention_layernorm [hidden]
  MlaAttention attn_;
  std::unique_ptr<Mlp> mlp_;  // dense layers (this rank's intermediate slice)
  std::unique_ptr<Moe> moe_;  // MoE layers
};

}  // namespace sieve::model
