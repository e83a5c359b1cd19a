// make-checkpoint presets: valid configs, the real 671B dimensions, sizes, --num-layers and --dtype bf16.
#include "model/checkpoint_presets.h"

#include <gtest/gtest.h>

#include "model/tensor_names.h"

namespace sieve::model {
namespace {

// Bytes of the tensors a config implies, as written (FP8 linears with F32 scales, everything else BF16,
// the router bias F32): what make-checkpoint writes and index total_size says.
double CheckpointGB(const ModelConfig& c) {
  uint64_t bytes = 0;
  for (const TensorSpec& s : ExpectedTensors(c)) {
    const uint64_t n = static_cast<uint64_t>(NumElements(s.shape));
    if (s.kind == TensorKind::kLinear && c.is_fp8())
      bytes += n + 4 * static_cast<uint64_t>(NumElements(ScaleShape(s.shape, c)));
    else
      bytes += n * (s.kind == TensorKind::kBias ? 4 : 2);
  }
  return bytes / 1e9;
}

TEST(CheckpointPresets, EveryPresetIsAValidConfig) {
  for (const std::string& name : CheckpointPresetNames()) {
    auto preset = FindCheckpointPreset(name);
    ASSERT_TRUE(preset.ok()) << name;
    auto parsed = ParseModelConfig(ModelConfigToJson(preset->config), name);
    ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
    EXPECT_EQ(parsed->vocab_size, 129280) << name << ": the real tokenizer must work";
    EXPECT_TRUE(parsed->is_fp8()) << name;
    EXPECT_EQ(parsed->num_nextn_predict_layers, 1) << name;
  }
  EXPECT_EQ(FindCheckpointPreset("huge").status().message(),
            "unknown preset \"huge\" (known: tiny, small, medium, full-shape)");
}

TEST(CheckpointPresets, FullShapeHasTheRealDimensions) {
  const ModelConfig c = FindCheckpointPreset("full-shape")->config;
  EXPECT_EQ(c.hidden_size, 7168);
  EXPECT_EQ(c.num_hidden_layers, 61);
  EXPECT_EQ(c.first_k_dense_replace, 3);
  EXPECT_EQ(c.num_attention_heads, 128);
  EXPECT_EQ(c.q_lora_rank, 1536);
  EXPECT_EQ(c.kv_lora_rank, 512);
  EXPECT_EQ(c.n_routed_experts, 256);
  EXPECT_EQ(c.moe_intermediate_size, 2048);
  EXPECT_EQ(c.intermediate_size, 18432);
  EXPECT_EQ(c.index_topk, 2048);
  EXPECT_EQ(c.max_position_embeddings, 163840);
  EXPECT_EQ(c.rope_scaling.original_max_position_embeddings, 4096);
  // The published DeepSeek-V3.2 checkpoint is about 690 GB (163 shards).
  EXPECT_GT(CheckpointGB(c), 680.0);
  EXPECT_LT(CheckpointGB(c), 700.0);
}

TEST(CheckpointPresets, TinyHasTheFixtureDimensions) {
  const ModelConfig c = FindCheckpointPreset("tiny")->config;
  EXPECT_EQ(c.hidden_size, 256);
  EXPECT_EQ(c.num_hidden_layers, 4);
  EXPECT_EQ(c.first_k_dense_replace, 1);
  EXPECT_EQ(c.kv_lora_rank + c.qk_rope_head_dim, 160);  // partial last row block of kv_a_proj_with_mqa
  EXPECT_EQ(c.index_n_heads, 16);
  EXPECT_EQ(c.bos_token_id, 0);
  EXPECT_EQ(c.eos_token_id, 1);
}

TEST(CheckpointPresets, SizesMatchTheirDescriptions) {
  EXPECT_NEAR(CheckpointGB(FindCheckpointPreset("tiny")->config), 0.28, 0.02);
  EXPECT_NEAR(CheckpointGB(FindCheckpointPreset("small")->config), 1.5, 0.2);
  EXPECT_NEAR(CheckpointGB(FindCheckpointPreset("medium")->config), 5.0, 0.5);
}

TEST(CheckpointPresets, NumLayersKeepsAMoeLayer) {
  ModelConfig c = FindCheckpointPreset("full-shape")->config;
  ASSERT_TRUE(SetNumLayers(5, &c).ok());
  EXPECT_EQ(c.num_hidden_layers, 5);
  EXPECT_EQ(c.first_k_dense_replace, 3);
  ASSERT_TRUE(SetNumLayers(2, &c).ok());
  EXPECT_EQ(c.first_k_dense_replace, 1);
  EXPECT_TRUE(c.is_moe_layer(1));
  ASSERT_TRUE(SetNumLayers(1, &c).ok());
  EXPECT_EQ(c.first_k_dense_replace, 0);
  EXPECT_EQ(SetNumLayers(0, &c).message(), "--num-layers must be at least 1, got 0");
}

TEST(CheckpointPresets, Bf16OnlyDropsQuantizationConfig) {
  ModelConfig c = FindCheckpointPreset("tiny")->config;
  MakeBf16Only(&c);
  EXPECT_FALSE(c.is_fp8());
  EXPECT_EQ(ModelConfigToJson(c).find("quantization_config"), std::string::npos);
  EXPECT_NE(ModelConfigToJson(FindCheckpointPreset("tiny")->config).find("quantization_config"), std::string::npos);
}

}  // namespace
}  // namespace sieve::model
