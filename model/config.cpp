// config.json parsing and validation.
#include "model/config.h"

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace sieve::model {

using nlohmann::json;

namespace {

// Reads an optional key; a present key of the wrong type is an error naming it.
template <typename T>
Status Read(const json& j, const char* key, T* out, const std::string& path, bool required = false) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) {
    if (required) return Status::InvalidArgument(path + ": missing required key \"" + key + "\"");
    return Status::Ok();
  }
  try {
    if constexpr (std::is_same_v<T, int64_t>) {
      if (!it->is_number_integer()) throw json::type_error::create(302, "expected an integer", nullptr);
    } else if constexpr (std::is_same_v<T, double>) {
      if (!it->is_number()) throw json::type_error::create(302, "expected a number", nullptr);
    }
    *out = it->get<T>();
  } catch (const json::exception&) {
    return Status::InvalidArgument(path + ": key \"" + key + "\" has the wrong type (" + it->dump() + ")");
  }
  return Status::Ok();
}

}  // namespace

StatusOr<ModelConfig> ParseModelConfig(const std::string& json_text, const std::string& path) {
  json j;
  try {
    j = json::parse(json_text);
  } catch (const json::exception& e) {
    return Status::InvalidArgument(path + ": not valid JSON: " + e.what());
  }
  if (!j.is_object()) return Status::InvalidArgument(path + ": not a JSON object");
  ModelConfig c;
  SIEVE_RETURN_IF_ERROR(Read(j, "model_type", &c.model_type, path, true));
  if (c.model_type != "deepseek_v32" && c.model_type != "deepseek_v3")
    return Status::InvalidArgument(path + ": unknown model_type \"" + c.model_type +
                                   "\" (supported: deepseek_v32, deepseek_v3)");
  if (j.contains("architectures") && j["architectures"].is_array() && !j["architectures"].empty() &&
      j["architectures"][0].is_string())
    c.architecture = j["architectures"][0].get<std::string>();
  SIEVE_RETURN_IF_ERROR(Read(j, "vocab_size", &c.vocab_size, path, true));
  SIEVE_RETURN_IF_ERROR(Read(j, "hidden_size", &c.hidden_size, path, true));
  SIEVE_RETURN_IF_ERROR(Read(j, "intermediate_size", &c.intermediate_size, path, true));
  SIEVE_RETURN_IF_ERROR(Read(j, "moe_intermediate_size", &c.moe_intermediate_size, path));
  SIEVE_RETURN_IF_ERROR(Read(j, "num_hidden_layers", &c.num_hidden_layers, path, true));
  SIEVE_RETURN_IF_ERROR(Read(j, "num_nextn_predict_layers", &c.num_nextn_predict_layers, path));
  SIEVE_RETURN_IF_ERROR(Read(j, "num_attention_heads", &c.num_attention_heads, path, true));
  c.num_key_value_heads = c.num_attention_heads;
  SIEVE_RETURN_IF_ERROR(Read(j, "num_key_value_heads", &c.num_key_value_heads, path));
  SIEVE_RETURN_IF_ERROR(Read(j, "n_shared_experts", &c.n_shared_experts, path));
  SIEVE_RETURN_IF_ERROR(Read(j, "n_routed_experts", &c.n_routed_experts, path));
  SIEVE_RETURN_IF_ERROR(Read(j, "routed_scaling_factor", &c.routed_scaling_factor, path));
  SIEVE_RETURN_IF_ERROR(Read(j, "kv_lora_rank", &c.kv_lora_rank, path, true));
  SIEVE_RETURN_IF_ERROR(Read(j, "q_lora_rank", &c.q_lora_rank, path));
  SIEVE_RETURN_IF_ERROR(Read(j, "qk_rope_head_dim", &c.qk_rope_head_dim, path, true));
  SIEVE_RETURN_IF_ERROR(Read(j, "qk_nope_head_dim", &c.qk_nope_head_dim, path, true));
  SIEVE_RETURN_IF_ERROR(Read(j, "v_head_dim", &c.v_head_dim, path, true));
  SIEVE_RETURN_IF_ERROR(Read(j, "topk_method", &c.topk_method, path));
  SIEVE_RETURN_IF_ERROR(Read(j, "scoring_func", &c.scoring_func, path));
  SIEVE_RETURN_IF_ERROR(Read(j, "hidden_act", &c.hidden_act, path));
  SIEVE_RETURN_IF_ERROR(Read(j, "n_group", &c.n_group, path));
  SIEVE_RETURN_IF_ERROR(Read(j, "topk_group", &c.topk_group, path));
  SIEVE_RETURN_IF_ERROR(Read(j, "num_experts_per_tok", &c.num_experts_per_tok, path));
  SIEVE_RETURN_IF_ERROR(Read(j, "moe_layer_freq", &c.moe_layer_freq, path));
  SIEVE_RETURN_IF_ERROR(Read(j, "first_k_dense_replace", &c.first_k_dense_replace, path));
  SIEVE_RETURN_IF_ERROR(Read(j, "norm_topk_prob", &c.norm_topk_prob, path));
  SIEVE_RETURN_IF_ERROR(Read(j, "max_position_embeddings", &c.max_position_embeddings, path));
  SIEVE_RETURN_IF_ERROR(Read(j, "rms_norm_eps", &c.rms_norm_eps, path));
  SIEVE_RETURN_IF_ERROR(Read(j, "rope_theta", &c.rope_theta, path));
  SIEVE_RETURN_IF_ERROR(Read(j, "bos_token_id", &c.bos_token_id, path));
  SIEVE_RETURN_IF_ERROR(Read(j, "eos_token_id", &c.eos_token_id, path));
  SIEVE_RETURN_IF_ERROR(Read(j, "tie_word_embeddings", &c.tie_word_embeddings, path));
  SIEVE_RETURN_IF_ERROR(Read(j, "index_n_heads", &c.index_n_heads, path));
  SIEVE_RETURN_IF_ERROR(Read(j, "index_head_dim", &c.index_head_dim, path));
  SIEVE_RETURN_IF_ERROR(Read(j, "index_topk", &c.index_topk, path));
  if (auto it = j.find("rope_scaling"); it != j.end() && it->is_object()) {
    const json& r = *it;
    const std::string rp = path + ": rope_scaling";
    if (r.contains("type")) SIEVE_RETURN_IF_ERROR(Read(r, "type", &c.rope_scaling.type, rp));
    else SIEVE_RETURN_IF_ERROR(Read(r, "rope_type", &c.rope_scaling.type, rp));
    SIEVE_RETURN_IF_ERROR(Read(r, "factor", &c.rope_scaling.factor, rp));
    SIEVE_RETURN_IF_ERROR(Read(r, "original_max_position_embeddings",
                               &c.rope_scaling.original_max_position_embeddings, rp));
    SIEVE_RETURN_IF_ERROR(Read(r, "beta_fast", &c.rope_scaling.beta_fast, rp));
    SIEVE_RETURN_IF_ERROR(Read(r, "beta_slow", &c.rope_scaling.beta_slow, rp));
    SIEVE_RETURN_IF_ERROR(Read(r, "mscale", &c.rope_scaling.mscale, rp));
    SIEVE_RETURN_IF_ERROR(Read(r, "mscale_all_dim", &c.rope_scaling.mscale_all_dim, rp));
    if (!c.rope_scaling.type.empty() && c.rope_scaling.type != "yarn")
      return Status::InvalidArgument(path + ": rope_scaling type \"" + c.rope_scaling.type +
                                     "\" is not supported (only yarn)");
  }
  if (auto it = j.find("quantization_config"); it != j.end() && it->is_object()) {
    const json& q = *it;
    const std::string qp = path + ": quantization_config";
    auto& qc = c.quantization_config;
    SIEVE_RETURN_IF_ERROR(Read(q, "quant_method", &qc.quant_method, qp));
    SIEVE_RETURN_IF_ERROR(Read(q, "fmt", &qc.fmt, qp));
    SIEVE_RETURN_IF_ERROR(Read(q, "activation_scheme", &qc.activation_scheme, qp));
    SIEVE_RETURN_IF_ERROR(Read(q, "scale_fmt", &qc.scale_fmt, qp));
    if (qc.quant_method != "fp8")
      return Status::InvalidArgument(qp + ": quant_method \"" + qc.quant_method + "\" is not supported (only fp8)");
    if (!qc.fmt.empty() && qc.fmt != "e4m3")
      return Status::InvalidArgument(qp + ": fmt \"" + qc.fmt + "\" is not supported (only e4m3)");
    if (auto b = q.find("weight_block_size"); b != q.end()) {
      if (!b->is_array() || b->size() != 2 || !(*b)[0].is_number_integer() || !(*b)[1].is_number_integer())
        return Status::InvalidArgument(qp + ": weight_block_size must be [rows, cols]");
      qc.weight_block_size[0] = (*b)[0].get<int64_t>();
      qc.weight_block_size[1] = (*b)[1].get<int64_t>();
      if (qc.weight_block_size[0] <= 0 || qc.weight_block_size[1] <= 0)
        return Status::InvalidArgument(qp + ": weight_block_size entries must be positive");
    }
  }
  // Sanity: positive dimensions where the architecture needs them.
  const std::pair<const char*, int64_t> positive[] = {
      {"vocab_size", c.vocab_size},         {"hidden_size", c.hidden_size},
      {"num_hidden_layers", c.num_hidden_layers}, {"num_attention_heads", c.num_attention_heads},
      {"kv_lora_rank", c.kv_lora_rank},     {"qk_rope_head_dim", c.qk_rope_head_dim},
      {"qk_nope_head_dim", c.qk_nope_head_dim}, {"v_head_dim", c.v_head_dim},
      {"intermediate_size", c.intermediate_size}};
  for (const auto& [key, v] : positive)
    if (v <= 0) return Status::InvalidArgument(path + ": \"" + key + "\" must be positive, got " + std::to_string(v));
  if (c.qk_rope_head_dim % 2 != 0) return Status::InvalidArgument(path + ": qk_rope_head_dim must be even");
  if (c.n_routed_experts > 0) {
    if (c.num_experts_per_tok <= 0 || c.num_experts_per_tok > c.n_routed_experts)
      return Status::InvalidArgument(path + ": num_experts_per_tok must be in [1, n_routed_experts]");
    if (c.n_group <= 0 || c.n_routed_experts % c.n_group != 0 || c.topk_group <= 0 || c.topk_group > c.n_group)
      return Status::InvalidArgument(path + ": n_group must divide n_routed_experts and topk_group <= n_group");
    if (c.moe_intermediate_size <= 0) return Status::InvalidArgument(path + ": moe_intermediate_size must be positive");
    if (c.moe_layer_freq <= 0) return Status::InvalidArgument(path + ": moe_layer_freq must be positive");
  }
  if (c.has_indexer()) {
    if (c.index_head_dim <= c.qk_rope_head_dim || c.index_topk <= 0)
      return Status::InvalidArgument(path + ": index_head_dim must exceed qk_rope_head_dim and index_topk be positive");
    if ((c.index_head_dim & (c.index_head_dim - 1)) != 0)
      return Status::InvalidArgument(path + ": index_head_dim must be a power of two (Hadamard rotation)");
  } else if (c.model_type == "deepseek_v32") {
    return Status::InvalidArgument(path + ": model_type deepseek_v32 needs index_n_heads, index_head_dim, index_topk");
  }
  return c;
}

StatusOr<ModelConfig> LoadModelConfig(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Status::NotFound(path + ": cannot open config");
  std::stringstream ss;
  ss << in.rdbuf();
  return ParseModelConfig(ss.str(), path);
}

std::string ModelConfigToJson(const ModelConfig& c) {
  json j;
  j["architectures"] = {c.architecture.empty() ? std::string(c.model_type == "deepseek_v32"
                                                                  ? "DeepseekV32ForCausalLM"
                                                                  : "DeepseekV3ForCausalLM")
                                               : c.architecture};
  j["model_type"] = c.model_type;
  j["attention_bias"] = false;
  j["attention_dropout"] = 0.0;
  j["bos_token_id"] = c.bos_token_id;
  j["eos_token_id"] = c.eos_token_id;
  j["ep_size"] = 1;
  j["first_k_dense_replace"] = c.first_k_dense_replace;
  j["hidden_act"] = c.hidden_act.empty() ? "silu" : c.hidden_act;
  j["hidden_size"] = c.hidden_size;
  if (c.has_indexer()) {
    j["index_head_dim"] = c.index_head_dim;
    j["index_n_heads"] = c.index_n_heads;
    j["index_topk"] = c.index_topk;
  }
  j["initializer_range"] = 0.02;
  j["intermediate_size"] = c.intermediate_size;
  j["kv_lora_rank"] = c.kv_lora_rank;
  j["max_position_embeddings"] = c.max_position_embeddings;
  j["moe_intermediate_size"] = c.moe_intermediate_size;
  j["moe_layer_freq"] = c.moe_layer_freq;
  j["n_group"] = c.n_group;
  j["n_routed_experts"] = c.n_routed_experts;
  j["n_shared_experts"] = c.n_shared_experts;
  j["norm_topk_prob"] = c.norm_topk_prob;
  j["num_attention_heads"] = c.num_attention_heads;
  j["num_experts_per_tok"] = c.num_experts_per_tok;
  j["num_hidden_layers"] = c.num_hidden_layers;
  j["num_key_value_heads"] = c.num_key_value_heads;
  j["num_nextn_predict_layers"] = c.num_nextn_predict_layers;
  if (c.q_lora_rank > 0) j["q_lora_rank"] = c.q_lora_rank; else j["q_lora_rank"] = nullptr;
  j["qk_nope_head_dim"] = c.qk_nope_head_dim;
  j["qk_rope_head_dim"] = c.qk_rope_head_dim;
  if (c.is_fp8()) {
    const auto& q = c.quantization_config;
    j["quantization_config"] = {{"activation_scheme", q.activation_scheme.empty() ? "dynamic" : q.activation_scheme},
                                {"fmt", q.fmt.empty() ? "e4m3" : q.fmt},
                                {"quant_method", "fp8"},
                                {"scale_fmt", q.scale_fmt.empty() ? "ue8m0" : q.scale_fmt},
                                {"weight_block_size", {q.weight_block_size[0], q.weight_block_size[1]}}};
  }
  j["rms_norm_eps"] = c.rms_norm_eps;
  if (c.rope_scaling.type == "yarn") {
    const auto& r = c.rope_scaling;
    j["rope_scaling"] = {{"beta_fast", r.beta_fast},
                         {"beta_slow", r.beta_slow},
                         {"factor", r.factor},
                         {"mscale", r.mscale},
                         {"mscale_all_dim", r.mscale_all_dim},
                         {"original_max_position_embeddings", r.original_max_position_embeddings},
                         {"type", "yarn"}};
  }
  j["rope_theta"] = c.rope_theta;
  j["routed_scaling_factor"] = c.routed_scaling_factor;
  j["scoring_func"] = c.scoring_func.empty() ? "sigmoid" : c.scoring_func;
  j["tie_word_embeddings"] = c.tie_word_embeddings;
  j["topk_group"] = c.topk_group;
  j["topk_method"] = c.topk_method.empty() ? "noaux_tc" : c.topk_method;
  j["torch_dtype"] = "bfloat16";
  j["transformers_version"] = "4.44.2";
  j["use_cache"] = true;
  j["v_head_dim"] = c.v_head_dim;
  j["vocab_size"] = c.vocab_size;
  return j.dump(2) + "\n";
}

}  // namespace sieve::model
