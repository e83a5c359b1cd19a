// Checkpoint tensor table for DeepSeek-V3.x (MLA + optional DSA indexer + DeepSeekMoE + MTP).
#include "model/tensor_names.h"

namespace sieve::model {

std::string LayerPrefix(int64_t layer) { return "model.layers." + std::to_string(layer) + "."; }

std::string ScaleName(const std::string& weight_name) { return weight_name + "_scale_inv"; }

Shape ScaleShape(const Shape& w, const ModelConfig& c) {
  const int64_t br = c.quantization_config.weight_block_size[0];
  const int64_t bc = c.quantization_config.weight_block_size[1];
  return {(w[0] + br - 1) / br, (w[1] + bc - 1) / bc};
}

namespace {

void AddDecoderLayer(const ModelConfig& c, int64_t layer, std::vector<TensorSpec>* out) {
  const std::string p = LayerPrefix(layer);
  const int64_t h = c.hidden_size, heads = c.num_attention_heads;
  auto add = [&](const std::string& name, TensorKind kind, Shape shape) {
    out->push_back({p + name, kind, std::move(shape)});
  };
  add("input_layernorm.weight", TensorKind::kNormWeight, {h});
  add("post_attention_layernorm.weight", TensorKind::kNormWeight, {h});
  // MLA (DeepSeek-V2 paper sec. 2.1): q through a LoRA, kv through the compressed latent + shared rope key.
  if (c.q_lora_rank > 0) {
    add("self_attn.q_a_proj.weight", TensorKind::kLinear, {c.q_lora_rank, h});
    add("self_attn.q_a_layernorm.weight", TensorKind::kNormWeight, {c.q_lora_rank});
    add("self_attn.q_b_proj.weight", TensorKind::kLinear, {heads * c.qk_head_dim(), c.q_lora_rank});
  } else {
    add("self_attn.q_proj.weight", TensorKind::kLinear, {heads * c.qk_head_dim(), h});
  }
  add("self_attn.kv_a_proj_with_mqa.weight", TensorKind::kLinear, {c.kv_lora_rank + c.qk_rope_head_dim, h});
  add("self_attn.kv_a_layernorm.weight", TensorKind::kNormWeight, {c.kv_lora_rank});
  add("self_attn.kv_b_proj.weight", TensorKind::kLinear, {heads * (c.qk_nope_head_dim + c.v_head_dim), c.kv_lora_rank});
  add("self_attn.o_proj.weight", TensorKind::kLinear, {h, heads * c.v_head_dim});
  if (c.has_indexer()) {
    // Lightning indexer (DeepSeek-V3.2-Exp inference/model.py, class Indexer).
    const int64_t q_in = c.q_lora_rank > 0 ? c.q_lora_rank : h;
    add("self_attn.indexer.wq_b.weight", TensorKind::kLinear, {c.index_n_heads * c.index_head_dim, q_in});
    add("self_attn.indexer.wk.weight", TensorKind::kLinear, {c.index_head_dim, h});
    add("self_attn.indexer.k_norm.weight", TensorKind::kNormWeight, {c.index_head_dim});
    add("self_attn.indexer.k_norm.bias", TensorKind::kNormWeight, {c.index_head_dim});
    add("self_attn.indexer.weights_proj.weight", TensorKind::kDense, {c.index_n_heads, h});
  }
  if (c.is_moe_layer(layer)) {
    const int64_t m = c.moe_intermediate_size;
    add("mlp.gate.weight", TensorKind::kDense, {c.n_routed_experts, h});
    if (c.topk_method == "noaux_tc" || c.topk_method.empty())
      add("mlp.gate.e_score_correction_bias", TensorKind::kBias, {c.n_routed_experts});
    for (int64_t e = 0; e < c.n_routed_experts; ++e) {
      const std::string ep = "mlp.experts." + std::to_string(e) + ".";
      add(ep + "gate_proj.weight", TensorKind::kLinear, {m, h});
      add(ep + "up_proj.weight", TensorKind::kLinear, {m, h});
      add(ep + "down_proj.weight", TensorKind::kLinear, {h, m});
    }
    if (c.n_shared_experts > 0) {
      const int64_t s = m * c.n_shared_experts;
      add("mlp.shared_experts.gate_proj.weight", TensorKind::kLinear, {s, h});
      add("mlp.shared_experts.up_proj.weight", TensorKind::kLinear, {s, h});
      add("mlp.shared_experts.down_proj.weight", TensorKind::kLinear, {h, s});
    }
  } else {
    add("mlp.gate_proj.weight", TensorKind::kLinear, {c.intermediate_size, h});
    add("mlp.up_proj.weight", TensorKind::kLinear, {c.intermediate_size, h});
    add("mlp.down_proj.weight", TensorKind::kLinear, {h, c.intermediate_size});
  }
}

}  // namespace

std::vector<TensorSpec> ExpectedTensors(const ModelConfig& c) {
  std::vector<TensorSpec> out;
  const int64_t h = c.hidden_size;
  out.push_back({"model.embed_tokens.weight", TensorKind::kDense, {c.vocab_size, h}});
  for (int64_t l = 0; l < c.num_hidden_layers; ++l) AddDecoderLayer(c, l, &out);
  out.push_back({"model.norm.weight", TensorKind::kNormWeight, {h}});
  out.push_back({"lm_head.weight", TensorKind::kDense, {c.vocab_size, h}});
  // MTP layers (DeepSeek-V3 report sec. 2.2): a decoder block plus its own embedding/head copies.
  for (int64_t l = c.num_hidden_layers; l < c.num_checkpoint_layers(); ++l) {
    AddDecoderLayer(c, l, &out);
    const std::string p = LayerPrefix(l);
    out.push_back({p + "embed_tokens.weight", TensorKind::kDense, {c.vocab_size, h}});
    out.push_back({p + "enorm.weight", TensorKind::kNormWeight, {h}});
    out.push_back({p + "hnorm.weight", TensorKind::kNormWeight, {h}});
    out.push_back({p + "eh_proj.weight", TensorKind::kDense, {h, 2 * h}});
    out.push_back({p + "shared_head.norm.weight", TensorKind::kNormWeight, {h}});
    out.push_back({p + "shared_head.head.weight", TensorKind::kDense, {c.vocab_size, h}});
  }
  return out;
}

}  // namespace sieve::model
