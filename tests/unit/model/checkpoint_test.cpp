// Checkpoint loading: the shared tiny-dsv32-a fixture opens and validates.
#include "model/checkpoint.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
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

// WeightLoad::kInMemory (--no-mmap) on the fixture, whose Hugging Face-style shards put tensors 8-56 bytes
// off a cache line: every tensor holds the mapped bytes, on a 64-byte boundary, in the order a step reads
// them (an expert's gate, its scales, then up, then down), and the memos cover the copies.
TEST(CheckpointInMemory, CopiesEveryTensorAlignedInReadOrder) {
  auto fx = test::SharedFixture("tiny-dsv32-a");
  if (!fx) GTEST_SKIP() << "../shared/fixtures/tiny-dsv32-a not present; fixture test skipped";
  auto mapped = Checkpoint::Open(*fx + "/checkpoint");
  auto copied = Checkpoint::Open(*fx + "/checkpoint", WeightLoad::kInMemory);
  ASSERT_TRUE(mapped.ok()) << mapped.status().ToString();
  ASSERT_TRUE(copied.ok()) << copied.status().ToString();
  EXPECT_EQ((*mapped)->load(), WeightLoad::kMapped);
  EXPECT_EQ((*copied)->load(), WeightLoad::kInMemory);
  ASSERT_EQ((*copied)->NumTensors(), (*mapped)->NumTensors());
  int misaligned_in_files = 0;
  for (const TensorSpec& spec : ExpectedTensors((*mapped)->config())) {
    for (const std::string& name : {spec.name, ScaleName(spec.name)}) {
      const ConstTensorView* from = (*mapped)->Find(name);
      if (from == nullptr) continue;
      const ConstTensorView& to = (*copied)->Get(name);
      ASSERT_EQ(to.nbytes, from->nbytes) << name;
      EXPECT_EQ(std::memcmp(to.data, from->data, to.nbytes), 0) << name;
      EXPECT_EQ(reinterpret_cast<uintptr_t>(to.data) % 64, 0u) << name;
      misaligned_in_files += reinterpret_cast<uintptr_t>(from->data) % 64 != 0;
    }
  }
  EXPECT_GT(misaligned_in_files, 0) << "the fixture no longer tests the copy's alignment";
  const auto padded = [](size_t bytes) { return (bytes + 63) / 64 * 64; };
  const std::string e = "model.layers.1.mlp.experts.3.";
  const ConstTensorView& gate = (*copied)->Get(e + "gate_proj.weight");
  const ConstTensorView& gate_scale = (*copied)->Get(e + "gate_proj.weight_scale_inv");
  EXPECT_EQ(gate_scale.data, gate.data + padded(gate.nbytes));
  EXPECT_EQ((*copied)->Get(e + "up_proj.weight").data, gate_scale.data + padded(gate_scale.nbytes));
  const LinearWeight w = (*copied)->Linear(e + "down_proj");
  ASSERT_NE(w.nan_memo, nullptr);
  EXPECT_EQ(w.nan_memo->GroupCodes(0), w.weight.as<uint8_t>());
}

// Without MTP (no speculative decoding) the MTP layer's tensors are not copied: they stay readable from
// the mapping, and the copy is that much smaller.
TEST(CheckpointInMemory, LeavesTheMtpLayerMappedWhenItWillNotBeRead) {
  auto fx = test::SharedFixture("tiny-dsv32-a");
  if (!fx) GTEST_SKIP() << "../shared/fixtures/tiny-dsv32-a not present; fixture test skipped";
  auto all = Checkpoint::Open(*fx + "/checkpoint", WeightLoad::kInMemory);
  auto no_mtp = Checkpoint::Open(*fx + "/checkpoint", WeightLoad::kInMemory, /*with_mtp=*/false);
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  ASSERT_TRUE(no_mtp.ok()) << no_mtp.status().ToString();
  const ModelConfig& c = (*all)->config();
  ASSERT_GT(c.num_nextn_predict_layers, 0);
  EXPECT_EQ((*all)->ResidentBytes() % 64, 0u);
  EXPECT_GE((*all)->ResidentBytes(), (*all)->TotalBytes());
  size_t mtp_bytes = 0;
  const std::string mtp = LayerPrefix(c.num_hidden_layers);
  for (const TensorSpec& spec : ExpectedTensors(c)) {
    for (const std::string& name : {spec.name, ScaleName(spec.name)}) {
      const ConstTensorView* copied = (*all)->Find(name);
      if (copied == nullptr) continue;
      const ConstTensorView& other = (*no_mtp)->Get(name);
      ASSERT_EQ(other.nbytes, copied->nbytes) << name;
      EXPECT_EQ(std::memcmp(other.data, copied->data, copied->nbytes), 0) << name;
      if (name.rfind(mtp, 0) == 0) mtp_bytes += (copied->nbytes + 63) / 64 * 64;
    }
  }
  EXPECT_GT(mtp_bytes, 0u);
  EXPECT_EQ((*no_mtp)->ResidentBytes(), (*all)->ResidentBytes() - mtp_bytes);
  auto mapped = Checkpoint::Open(*fx + "/checkpoint");
  ASSERT_TRUE(mapped.ok());
  EXPECT_EQ((*mapped)->ResidentBytes(), 0u);
}

TEST(CheckpointInMemory, RefusesACopyLargerThanTheAvailableMemory) {
  EXPECT_TRUE(FitsInMemory("/m", size_t{3} << 30, int64_t{4} << 30).ok());
  EXPECT_TRUE(FitsInMemory("/m", size_t{3} << 30, 0).ok()) << "unknown availability must not refuse";
  const Status refused = FitsInMemory("/m", size_t{6} << 30, int64_t{4} << 30);
  EXPECT_EQ(refused.code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(refused.message(),
            "/m: --no-mmap needs 6.00 GiB to hold the checkpoint's tensors and 4.00 GiB are available (MemAvailable); "
            "leave out --no-mmap to map the files instead");
}

}  // namespace
}  // namespace sieve::model
