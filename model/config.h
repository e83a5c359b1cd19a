// ModelConfig: the model's config.json (DeepSeek-V3 / V3.1 / V3.2-Exp / V3.2 / V3.2-Speciale).
// Field names are the config.json keys verbatim so a grep leads from the checkpoint to the code.
#pragma once

#include <cstdint>
#include <string>

#include "core/status.h"

namespace sieve::model {

struct RopeScaling {
  std::string type;  // "yarn" or empty (plain RoPE)
  double factor = 1.0;
  int64_t original_max_position_embeddings = 0;
  double beta_fast = 32.0;
  double beta_slow = 1.0;
  double mscale = 1.0;
  double mscale_all_dim = 0.0;
};

struct QuantizationConfig {
  std::string quant_method;  // "fp8" or empty (BF16 checkpoint)
  std::string fmt;           // "e4m3"
  std::string activation_scheme;
  std::string scale_fmt;     // "ue8m0" (activation scales); weight scales are arbitrary F32
  int64_t weight_block_size[2] = {128, 128};
};

struct ModelConfig {
  std::string model_type;  // deepseek_v32 | deepseek_v3
  std::string architecture;
  int64_t vocab_size = 0;
  int64_t hidden_size = 0;
  int64_t intermediate_size = 0;
  int64_t moe_intermediate_size = 0;
  int64_t num_hidden_layers = 0;
  int64_t num_nextn_predict_layers = 0;
  int64_t num_attention_heads = 0;
  int64_t num_key_value_heads = 0;
  int64_t n_shared_experts = 0;
  int64_t n_routed_experts = 0;
  double routed_scaling_factor = 1.0;
  int64_t kv_lora_rank = 0;
  int64_t q_lora_rank = 0;  // 0 when null (no q LoRA)
  int64_t qk_rope_head_dim = 0;
  int64_t qk_nope_head_dim = 0;
  int64_t v_head_dim = 0;
  std::string topk_method;   // noaux_tc
  std::string scoring_func;  // sigmoid
  std::string hidden_act;    // silu
  int64_t n_group = 1;
  int64_t topk_group = 1;
  int64_t num_experts_per_tok = 0;
  int64_t moe_layer_freq = 1;
  int64_t first_k_dense_replace = 0;
  bool norm_topk_prob = true;
  int64_t max_position_embeddings = 0;
  double rms_norm_eps = 1e-6;
  double rope_theta = 10000.0;
  RopeScaling rope_scaling;
  int64_t bos_token_id = 0;
  int64_t eos_token_id = 1;
  bool tie_word_embeddings = false;
  // DeepSeek Sparse Attention (lightning indexer); all zero for the V3 / V3.1 layout.
  int64_t index_n_heads = 0;
  int64_t index_head_dim = 0;
  int64_t index_topk = 0;
  QuantizationConfig quantization_config;

  bool has_indexer() const { return index_n_heads > 0; }
  bool is_fp8() const { return quantization_config.quant_method == "fp8"; }
  int64_t qk_head_dim() const { return qk_nope_head_dim + qk_rope_head_dim; }
  bool is_moe_layer(int64_t layer) const {
    return n_routed_experts > 0 && layer >= first_k_dense_replace && layer % moe_layer_freq == 0;
  }
  // Layers in the checkpoint: the decoder layers then the MTP layers (model.layers.{L..L+n-1}).
  int64_t num_checkpoint_layers() const { return num_hidden_layers + num_nextn_predict_layers; }
};

// Parses and validates config.json text; `path` only names the file in messages.
StatusOr<ModelConfig> ParseModelConfig(const std::string& json_text, const std::string& path);
StatusOr<ModelConfig> LoadModelConfig(const std::string& path);
// The JSON form written by make-checkpoint (same keys as the Hugging Face files).
std::string ModelConfigToJson(const ModelConfig& config);

}  // namespace sieve::model
