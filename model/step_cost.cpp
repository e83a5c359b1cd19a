// Bytes and FLOPs of one forward step (see step_cost.h), from the tensor table and the KV layout.
#include "model/step_cost.h"

#include <algorithm>
#include <string>

#include "model/mla_form.h"
#include "model/tensor_names.h"

namespace sieve::model {

namespace {

int64_t Numel(const Shape& s) {
  int64_t n = 1;
  for (int64_t d : s) n *= d;
  return n;
}

bool IsMatrix(const TensorSpec& t) { return t.kind == TensorKind::kLinear || t.kind == TensorKind::kDense; }

double ElementBytes(KvCacheDtype d) { return d == KvCacheDtype::kF32 ? 4 : d == KvCacheDtype::kBF16 ? 2 : 1; }
// One cached vector of `n` elements (fp8 adds its fp32 scale; paged_kv_cache.h).
double VectorBytes(int64_t n, KvCacheDtype d) { return n * ElementBytes(d) + (d == KvCacheDtype::kFP8 ? 4 : 0); }

}  // namespace

double StoredBytes(const TensorSpec& t, const ModelConfig& c) {
  switch (t.kind) {
    case TensorKind::kLinear:
      return c.is_fp8() ? Numel(t.shape) + 4.0 * Numel(ScaleShape(t.shape, c)) : 2.0 * Numel(t.shape);
    case TensorKind::kBias: return 4.0 * Numel(t.shape);
    default: return 2.0 * Numel(t.shape);
  }
}

StepCost CountStepCost(const ModelConfig& c, const StepShape& s, const ModelShard* shard) {
  StepCost cost;
  const int64_t tokens = s.num_seqs * s.new_tokens;
  const int64_t per_token_experts = std::min(c.n_routed_experts, tokens * c.num_experts_per_tok);
  const int64_t distinct = s.distinct_experts >= 0 ? std::min(s.distinct_experts, per_token_experts) : per_token_experts;
  const std::string last_layer_end = LayerPrefix(c.num_hidden_layers);  // MTP layers are not part of a step
  // The indexer's query side (wq_b, weights_proj) only runs when some token has more causal keys than it
  // keeps (model/indexer.h, Select); its key side (wk, k_norm) always, for the tokens that come later.
  const bool selects = c.has_indexer() && !s.dense_attention && s.context_len > c.index_topk;
  for (const TensorSpec& t : ExpectedTensors(c)) {
    if (t.name.rfind(last_layer_end, 0) == 0) break;  // the table lists the MTP layers last
    if (!selects && (t.name.find("self_attn.indexer.wq_b.") != std::string::npos ||
                     t.name.find("self_attn.indexer.weights_proj.") != std::string::npos))
      continue;
    const double share = shard != nullptr ? shard->TensorShare(t.name, c) : 1.0;
    const double bytes = StoredBytes(t, c) * share;
    const double macs = IsMatrix(t) ? static_cast<double>(Numel(t.shape)) * share : 0.0;
    if (t.name == "model.embed_tokens.weight") {
      cost.weight_bytes += bytes / c.vocab_size * tokens;  // one row per token, no FLOPs
    } else if (t.name == "lm_head.weight") {
      cost.weight_bytes += bytes;
      cost.flops += 2 * macs * s.num_seqs;  // logits of each sequence's last token
    } else if (t.name.find(".mlp.experts.") != std::string::npos) {
      cost.weight_bytes += bytes * distinct / c.n_routed_experts;  // every expert has the same shape
      cost.flops += 2 * macs / c.n_routed_experts * tokens * c.num_experts_per_tok;
    } else {
      cost.weight_bytes += bytes;
      // kv_b_proj's FLOPs depend on the MLA form (per query absorbed, per key expanded): counted below.
      if (t.name.find("self_attn.kv_b_proj.") == std::string::npos) cost.flops += 2 * macs * tokens;
    }
  }
  // Attention over the cache, per layer. Token i of the new ones (position p = context - new + i) sees
  // p + 1 causal keys, of which it attends to min(p + 1, index_topk) with DSA.
  const bool sparse = c.has_indexer() && !s.dense_attention;
  const int64_t first_pos = s.context_len - s.new_tokens;
  double attended = 0, indexed = 0;
  for (int64_t p = first_pos; p < s.context_len; ++p) {
    attended += sparse ? std::min(p + 1, c.index_topk) : p + 1;
    if (sparse && p + 1 > c.index_topk) indexed += p + 1;
  }
  const int64_t heads = shard != nullptr ? shard->heads.count : c.num_attention_heads;
  const double index_heads = static_cast<double>(shard != nullptr ? shard->index_heads.count : c.index_n_heads);
  const double index_flops = 2.0 * index_heads * c.index_head_dim;
  const double layers = static_cast<double>(c.num_hidden_layers);
  // Each sequence reads each key it needs once per layer, however many new tokens use it.
  const int64_t latent_keys = sparse ? std::min(s.context_len, std::max<int64_t>(c.index_topk, s.new_tokens))
                                     : s.context_len;
  // MLA in the cheaper of its two forms, as the model runs it (model/mla_form.h), with kv_b_proj's FLOPs.
  const MlaWork mla{.heads = heads, .queries = s.new_tokens, .keys = latent_keys, .attended = attended};
  const double mla_flops = std::min(AbsorbedMlaFlops(c, mla), ExpandedMlaFlops(c, mla));
  cost.indexer_flops = layers * s.num_seqs * indexed * index_flops;
  cost.flops += layers * s.num_seqs * mla_flops + cost.indexer_flops;
  const bool needs_index = sparse && s.context_len > c.index_topk;
  const double latent_bytes = VectorBytes(c.kv_lora_rank, s.kv_dtype) + VectorBytes(c.qk_rope_head_dim, s.kv_dtype);
  cost.kv_bytes = layers * s.num_seqs *
                  (static_cast<double>(latent_keys) * latent_bytes + (needs_index ? s.context_len * VectorBytes(c.index_head_dim, s.kv_dtype) : 0));
  return cost;
}

}  // namespace sieve::model
