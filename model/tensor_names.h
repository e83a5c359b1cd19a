// The one table of checkpoint tensor names: every tensor a config implies, with its kind and shape,
// in the Hugging Face layout of DeepSeek-V3 / V3.2 (as llama.cpp keeps its names in llama-arch.cpp).
#pragma once

#include <string>
#include <vector>

#include "core/tensor.h"
#include "model/config.h"

namespace sieve::model {

enum class TensorKind {
  kLinear,     // projection weight [out, in]: F8_E4M3 + F32 `weight_scale_inv` in an FP8 checkpoint, else BF16
  kDense,      // a matrix never quantised (embeddings, lm_head, router gate, weights_proj, eh_proj): BF16/F32
  kNormWeight, // RMSNorm / LayerNorm weight or bias: BF16 or F32
  kBias,       // e_score_correction_bias: F32 (BF16 accepted)
};

struct TensorSpec {
  std::string name;
  TensorKind kind;
  Shape shape;
};

// Every tensor of the checkpoint in a deterministic order (layer by layer, then the MTP layers).
std::vector<TensorSpec> ExpectedTensors(const ModelConfig& config);

// "model.layers.3.self_attn.q_a_proj.weight" -> "model.layers.3.self_attn.q_a_proj.weight_scale_inv".
std::string ScaleName(const std::string& weight_name);
// Shape of the block-scale tensor of an FP8 weight [rows, cols]: [ceil(rows/br), ceil(cols/bc)].
Shape ScaleShape(const Shape& weight_shape, const ModelConfig& config);

// Name prefixes.
std::string LayerPrefix(int64_t layer);  // "model.layers.{layer}."

}  // namespace sieve::model
