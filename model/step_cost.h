// StepCost: the bytes one forward step must read and the FLOPs it must do, counted from the config
// alone (the tensor table in model/tensor_names.h, the KV layout in model/paged_kv_cache.h), so that a
// measured speed can be shown as a fraction of the machine's limits (docs/performance.md). The counts
// are the minimum the maths needs, not what a given kernel happens to touch:
//   - weights: every tensor of the decoder layers, the final norm and lm_head, read once per step (each
//     weight byte serves all tokens of the step), except the indexer's query side (wq_b, weights_proj)
//     while no token has more than index_topk causal keys; one embedding row per token; routed experts
//     only for the distinct experts the step touches; FP8 linears at 1 byte + their F32 128x128 block scales;
//   - KV: per sequence, the latent + rope key of the keys attention uses (top-k with DSA, all causal
//     keys with dense attention) and, when the context exceeds index_topk, every indexer key once;
//   - FLOPs: 2 per multiply-add of every projection for every token (lm_head only for the rows that
//     need logits), MLA attention with kv_b_proj in the cheaper of its absorbed and expanded forms
//     (model/mla_form.h: absorbed for decode, expanded for a prefill from scratch), the indexer at
//     2 x index_head_dim per head and key when it has to select (DeepSeek-V3.2-Exp inference/model.py).
#pragma once

#include <cstdint>

#include "model/config.h"
#include "model/model_shard.h"
#include "model/paged_kv_cache.h"
#include "model/tensor_names.h"

namespace sieve::model {

struct StepShape {
  int64_t num_seqs = 1;
  int64_t new_tokens = 1;   // per sequence: 1 for a decode step, the prompt length for a prefill
  int64_t context_len = 1;  // per sequence, after this step (cached + new tokens)
  KvCacheDtype kv_dtype = KvCacheDtype::kF32;
  bool dense_attention = false;
  // Distinct routed experts one MoE layer reads in this step; -1: every token's experts are distinct
  // (min(n_routed_experts, tokens x num_experts_per_tok)), the bound for random routing.
  int64_t distinct_experts = -1;
};

struct StepCost {
  double weight_bytes = 0;
  double kv_bytes = 0;
  double flops = 0;
  // The part of `flops` the lightning indexer's scores do: priced at its own kernel's peak (the bf16 dot
  // instruction with fp8 keys, kernels/machine_limits.h) by long_context_bench.
  double indexer_flops = 0;
  double bytes() const { return weight_bytes + kv_bytes; }
};

// The whole model's step, or with `shard` one rank's share of it (docs/parallelism.md): each tensor's
// bytes and FLOPs times the share the rank holds (routed experts: the expected share under uniform
// routing), attention and indexer FLOPs by the rank's heads; every rank reads the whole latent and index
// KV cache of its replica (MLA's latent is shared by all heads), so KV bytes are not split.
StepCost CountStepCost(const ModelConfig& config, const StepShape& shape, const ModelShard* shard = nullptr);

// Bytes of a tensor as a DeepSeek checkpoint stores it: FP8 linears with F32 block scales, BF16 otherwise
// (norm weights, embeddings, lm_head, router), F32 for the router's correction bias.
double StoredBytes(const TensorSpec& t, const ModelConfig& c);

}  // namespace sieve::model
