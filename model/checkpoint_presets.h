// Named model shapes for `sieve make-checkpoint`: a tiny test model, benchmark models of about 1.5 and
// 5 GB, and the real DeepSeek-V3.2 (671B) dimensions. Each is a full ModelConfig plus a shard size.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "model/config.h"

namespace sieve::model {

struct CheckpointPreset {
  std::string name;
  ModelConfig config;
  uint64_t shard_bytes = 0;  // target size of one model-0000K-of-0000N.safetensors
};

// "tiny", "small", "medium", "full-shape"; NotFound names the known presets.
StatusOr<CheckpointPreset> FindCheckpointPreset(std::string_view name);
std::vector<std::string> CheckpointPresetNames();

// Sets num_hidden_layers to `num_layers` (>= 1) and first_k_dense_replace to
// min(first_k_dense_replace, num_layers - 1), so any model with two or more layers keeps a MoE layer.
Status SetNumLayers(int64_t num_layers, ModelConfig* config);
// Removes quantization_config: every linear is then written (and read) as BF16, the layout of the
// BF16 conversions that some deployments publish.
void MakeBf16Only(ModelConfig* config);

}  // namespace sieve::model
