// Checkpoint loading: the shared tiny-dsv32-a fixture opens and validates.
#include "model/checkpoint.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "model/checkpoint_presets.h"
#include "model/checkpoint_writer.h"
#include "model/weight_views.h"
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

// Every FP8 weight gets one NaN-code memo (kernels/fp8_nan_memo.h) over its whole tensor, shared by every
// Linear() of it and carried into the kernel view; it starts with no row group scanned.
TEST(CheckpointNanMemo, EachFp8WeightHasOneMemoOverItsTensor) {
  test::TempDir dir;
  ModelConfig c = FindCheckpointPreset("tiny")->config;
  c.vocab_size = 2048;
  c.num_nextn_predict_layers = 0;
  ASSERT_TRUE(SetNumLayers(1, &c).ok());
  ASSERT_TRUE(c.is_fp8());
  CheckpointWriterOptions o;
  o.out_dir = dir.path();
  ASSERT_TRUE(WriteRandomCheckpoint(c, o).ok());
  auto ckpt = Checkpoint::Open(dir.path());
  ASSERT_TRUE(ckpt.ok()) << ckpt.status().ToString();
  const std::string name = "model.layers.0.self_attn.kv_a_proj_with_mqa";
  const LinearWeight w = (*ckpt)->Linear(name);
  ASSERT_NE(w.nan_memo, nullptr);
  EXPECT_EQ(w.nan_memo, (*ckpt)->Linear(name).nan_memo);
  EXPECT_NE(w.nan_memo, (*ckpt)->Linear("model.layers.0.self_attn.q_a_proj").nan_memo);
  EXPECT_EQ(w.nan_memo->NumGroups(), (w.rows() + kernels::Fp8NanMemo::kGroupRows - 1) / kernels::Fp8NanMemo::kGroupRows);
  EXPECT_EQ(w.nan_memo->GroupCodes(0), w.weight.as<uint8_t>());
  EXPECT_EQ(w.nan_memo->Get(0), kernels::Fp8NanMemo::kUnknown);
  EXPECT_EQ(LinearMatrix(w).nan_memo, w.nan_memo);
  EXPECT_EQ(LinearMatrix(w).Rows(3, 5).Cols(7, 9).nan_memo, w.nan_memo);
}

}  // namespace
}  // namespace sieve::model
