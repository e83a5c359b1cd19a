// Checkpoint loading: the shared tiny-dsv32-a fixture opens and validates.
#include "model/checkpoint.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "model/checkpoint_presets.h"
#include "model/checkpoint_writer.h"
#include "tests/test_support.h"

namespace sieve::model {
namespace {

TEST(CheckpointFixture, TinyDsv32Validates) {
  auto fx = test::SharedFixture("tiny-dsv32-a");
  if (!fx) GTEST_SKIP() << "../shared/fixtures/tiny-dsv32-a not present; fixture test skipped";
  auto ckpt = Checkpoint::Open(*fx + "/checkpoint");
  ASSERT_TRUE(ckpt.ok()) << ckpt.status().ToString();
  const ModelConfig& c = (*ckpt)->config();
  EXPECT_EQ(c.model_type, "deepseek_v32");
  EXPECT_EQ(c.index_topk, 32);
  EXPECT_EQ((*ckpt)->NumTensors(), 536u);
  const LinearWeight kv_a = (*ckpt)->Linear("model.layers.0.self_attn.kv_a_proj_with_mqa");
  EXPECT_EQ(kv_a.rows(), 160);
  ASSERT_NE(kv_a.scale_inv, nullptr);
  EXPECT_EQ(kv_a.scale_inv->shape, (Shape{2, 2}));
}

// The other layout the reader accepts: one model.safetensors and no index.
TEST(CheckpointSingleFile, OpensWithoutAnIndex) {
  test::TempDir dir;
  ModelConfig c = FindCheckpointPreset("tiny")->config;
  c.vocab_size = 2048;
  c.num_nextn_predict_layers = 0;  // else the MTP layer gets a shard of its own
  ASSERT_TRUE(SetNumLayers(2, &c).ok());
  CheckpointWriterOptions o;
  o.out_dir = dir.path();
  ASSERT_TRUE(WriteRandomCheckpoint(c, o).ok());
  namespace fs = std::filesystem;
  fs::rename(dir.path() + "/model-00001-of-00001.safetensors", dir.path() + "/model.safetensors");
  fs::remove(dir.path() + "/model.safetensors.index.json");
  auto ckpt = Checkpoint::Open(dir.path());
  ASSERT_TRUE(ckpt.ok()) << ckpt.status().ToString();
  EXPECT_EQ((*ckpt)->config().num_hidden_layers, 2);
  // Without either file the folder is no checkpoint.
  fs::remove(dir.path() + "/model.safetensors");
  EXPECT_EQ(Checkpoint::Open(dir.path()).status().message(),
            dir.path() + ": no model.safetensors.index.json or model.safetensors");
}

}  // namespace
}  // namespace sieve::model
