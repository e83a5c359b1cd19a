// The make-checkpoint presets. Every preset starts from the real DeepSeek-V3.2 config.json
// (deepseek-ai/DeepSeek-V3.2-Exp config.json) and shrinks only what its purpose allows.
#include "model/checkpoint_presets.h"

#include <algorithm>

namespace sieve::model {

namespace {

constexpr uint64_t kMiB = 1ull << 20;

// The real 671B model: 61 layers (3 dense + 58 MoE) + 1 MTP layer.
ModelConfig FullShape() {
  ModelConfig c;
  c.model_type = "deepseek_v32";
  c.architecture = "DeepseekV32ForCausalLM";
  c.vocab_size = 129280;
  c.hidden_size = 7168;
  c.intermediate_size = 18432;
  c.moe_intermediate_size = 2048;
  c.num_hidden_layers = 61;
  c.num_nextn_predict_layers = 1;
  c.num_attention_heads = 128;
  c.num_key_value_heads = 128;
  c.n_shared_experts = 1;
  c.n_routed_experts = 256;
  c.routed_scaling_factor = 2.5;
  c.kv_lora_rank = 512;
  c.q_lora_rank = 1536;
  c.qk_rope_head_dim = 64;
  c.qk_nope_head_dim = 128;
  c.v_head_dim = 128;
  c.topk_method = "noaux_tc";
  c.scoring_func = "sigmoid";
  c.hidden_act = "silu";
  c.n_group = 8;
  c.topk_group = 4;
  c.num_experts_per_tok = 8;
  c.moe_layer_freq = 1;
  c.first_k_dense_replace = 3;
  c.norm_topk_prob = true;
  c.max_position_embeddings = 163840;
  c.rms_norm_eps = 1e-6;
  c.rope_theta = 10000.0;
  c.rope_scaling = {.type = "yarn", .factor = 40.0, .original_max_position_embeddings = 4096,
                    .beta_fast = 32.0, .beta_slow = 1.0, .mscale = 1.0, .mscale_all_dim = 1.0};
  c.bos_token_id = 0;
  c.eos_token_id = 1;
  c.index_n_heads = 64;
  c.index_head_dim = 128;
  c.index_topk = 2048;
  c.quantization_config = {.quant_method = "fp8", .fmt = "e4m3", .activation_scheme = "dynamic",
                           .scale_fmt = "ue8m0", .weight_block_size = {128, 128}};
  return c;
}

// The dimensions of ../shared/fixtures/tiny-dsv32-a (see its README for why each one), but with the
// real vocabulary so the real tokenizer works: 4 layers (1 dense + 3 MoE) + 1 MTP, ~280 MB.
ModelConfig Tiny() {
  ModelConfig c = FullShape();
  c.hidden_size = 256;
  c.intermediate_size = 512;
  c.moe_intermediate_size = 128;
  c.num_hidden_layers = 4;
  c.first_k_dense_replace = 1;
  c.num_attention_heads = c.num_key_value_heads = 4;
  c.n_routed_experts = 16;
  c.num_experts_per_tok = 4;
  c.n_group = 4;
  c.topk_group = 2;
  c.q_lora_rank = 256;
  c.kv_lora_rank = 128;
  c.qk_rope_head_dim = 32;
  c.qk_nope_head_dim = 64;
  c.v_head_dim = 64;
  c.index_n_heads = 16;
  c.index_topk = 32;
  return c;
}

// A benchmark model: real per-head attention shapes (kv_lora 512 + rope 64, nope 128, v 128, 64 indexer
// heads of 128, index_topk 2048), so attention and the KV cache move real-sized rows, and the real
// hidden : expert ratio (7168 : 2048 = 3.5 -> 1024 : 256 = 4, in whole 128-blocks), the real
// hidden : dense-MLP ratio (2.57 -> 2.5) and the real routing structure (8 groups, top-4 groups,
// 8 experts per token) with 64 instead of 256 experts; 8 layers (1 dense + 7 MoE) + 1 MTP.
// About 1.5 GB: the real 129280-entry vocabulary alone costs 4 x 265 MB (embedding, lm_head and
// their MTP copies), so a smaller hidden size would distort the ratios more than it saves.
ModelConfig Small() {
  ModelConfig c = FullShape();
  c.hidden_size = 1024;
  c.intermediate_size = 2560;
  c.moe_intermediate_size = 256;
  c.num_hidden_layers = 8;
  c.first_k_dense_replace = 1;
  c.num_attention_heads = c.num_key_value_heads = 16;
  c.n_routed_experts = 64;
  c.q_lora_rank = 256;
  return c;
}

// Like `small` at twice the width and more layers: hidden 2048, 32 heads, 12 layers (1 dense + 11 MoE)
// + 1 MTP, 64 experts of 512; about 5 GB.
ModelConfig Medium() {
  ModelConfig c = Small();
  c.hidden_size = 2048;
  c.intermediate_size = 5120;
  c.moe_intermediate_size = 512;
  c.num_hidden_layers = 12;
  c.num_attention_heads = c.num_key_value_heads = 32;
  c.q_lora_rank = 512;
  return c;
}

std::vector<CheckpointPreset> AllPresets() {
  // Shard sizes: the real checkpoint uses ~4.3 GB shards; the smaller presets use smaller ones so that
  // they too are split over several files and exercise the index.
  return {{"tiny", Tiny(), 100 * kMiB},
          {"small", Small(), 512 * kMiB},
          {"medium", Medium(), 2048 * kMiB},
          {"full-shape", FullShape(), 4096 * kMiB}};
}

}  // namespace

StatusOr<CheckpointPreset> FindCheckpointPreset(std::string_view name) {
  for (CheckpointPreset& p : AllPresets())
    if (p.name == name) return std::move(p);
  std::string known;
  for (const std::string& n : CheckpointPresetNames()) known += (known.empty() ? "" : ", ") + n;
  return Status::NotFound("unknown preset \"" + std::string(name) + "\" (known: " + known + ")");
}

std::vector<std::string> CheckpointPresetNames() {
  std::vector<std::string> names;
  for (const CheckpointPreset& p : AllPresets()) names.push_back(p.name);
  return names;
}

Status SetNumLayers(int64_t num_layers, ModelConfig* config) {
  if (num_layers < 1)
    return Status::InvalidArgument("--num-layers must be at least 1, got " + std::to_string(num_layers));
  config->num_hidden_layers = num_layers;
  config->first_k_dense_replace = std::min(config->first_k_dense_replace, num_layers - 1);
  return Status::Ok();
}

void MakeBf16Only(ModelConfig* config) { config->quantization_config = QuantizationConfig{}; }

}  // namespace sieve::model
