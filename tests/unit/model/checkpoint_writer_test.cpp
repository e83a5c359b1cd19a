// make-checkpoint's writer: its output opens and validates (FP8 and BF16-only), is deterministic, has
// varying per-block FP8 scales (a partial last row block included), keeps activations O(1), and is laid out
// like the real checkpoint (index, shards, MTP copies, tokenizer files).
#include "model/checkpoint_writer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <sstream>

#include "model/checkpoint.h"
#include "tests/test_support.h"
#include "tests/unit/model/tiny_checkpoint.h"

namespace sieve::model {
namespace {

namespace fs = std::filesystem;
using test_checkpoint::Options;
using test_checkpoint::TinyConfig;
using test_checkpoint::WriteTiny;

std::string ReadFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string Bytes(const ConstTensorView& v) { return std::string(reinterpret_cast<const char*>(v.data), v.nbytes); }

// W[o, i] = e4m3(weight[o, i]) * scale_inv[o / 128, i / 128], as float [rows, cols].
std::vector<float> Dequantize(const LinearWeight& w) {
  const Tensor raw = ToFloatTensor(w.weight);
  std::vector<float> out(raw.data);
  if (!w.scale_inv) return out;
  const float* s = w.scale_inv->as<float>();
  const int64_t scale_cols = w.scale_inv->shape[1];
  for (int64_t o = 0; o < w.rows(); ++o)
    for (int64_t i = 0; i < w.cols(); ++i)
      out[o * w.cols() + i] *= s[(o / w.block_rows) * scale_cols + i / w.block_cols];
  return out;
}

// rms(W x) for x with N(0, 1) entries: the scale a projection gives its output.
double OutputRms(const LinearWeight& w) {
  const std::vector<float> m = Dequantize(w);
  std::mt19937 rng(5);
  std::normal_distribution<float> normal;
  std::vector<float> x(static_cast<size_t>(w.cols()));
  double sum_sq = 0;
  const int kTrials = 8;
  for (int t = 0; t < kTrials; ++t) {
    for (float& v : x) v = normal(rng);
    for (int64_t o = 0; o < w.rows(); ++o) {
      double y = 0;
      for (int64_t i = 0; i < w.cols(); ++i) y += m[o * w.cols() + i] * x[i];
      sum_sq += y * y;
    }
  }
  return std::sqrt(sum_sq / (kTrials * w.rows()));
}

TEST(CheckpointWriter, Fp8CheckpointOpensAndValidates) {
  test::TempDir dir;
  const ModelConfig config = TinyConfig();
  auto summary = WriteRandomCheckpoint(config, Options(dir.path()));
  ASSERT_TRUE(summary.ok()) << summary.status().ToString();
  auto ckpt = Checkpoint::Open(dir.path());
  ASSERT_TRUE(ckpt.ok()) << ckpt.status().ToString();
  size_t expected = 0;
  for (const TensorSpec& s : ExpectedTensors(config)) expected += s.kind == TensorKind::kLinear ? 2 : 1;
  EXPECT_EQ((*ckpt)->NumTensors(), expected);
  EXPECT_EQ(summary->num_tensors, expected);
  EXPECT_EQ((*ckpt)->TotalBytes(), summary->tensor_bytes);
  EXPECT_GT(summary->num_shards, 2);
  const ModelConfig& c = (*ckpt)->config();
  EXPECT_TRUE(c.is_fp8());
  EXPECT_EQ(c.num_hidden_layers, 2);
  EXPECT_EQ(c.first_k_dense_replace, 1);  // layer 0 dense, layer 1 MoE
  EXPECT_EQ(c.rope_scaling.factor, 40.0);
  EXPECT_EQ(c.index_n_heads, 16);
  EXPECT_EQ((*ckpt)->Get("model.layers.1.mlp.experts.15.down_proj.weight").dtype, DType::kF8E4M3);
  EXPECT_EQ(ReadFile(dir.path() + "/tokenizer.json"),
            ReadFile(std::string(SIEVE_SOURCE_DIR) + "/assets/tokenizer/tokenizer.json"));
}

TEST(CheckpointWriter, Bf16CheckpointHasNoQuantizationConfigAndLoads) {
  test::TempDir dir;
  WriteTiny(dir.path(), /*bf16=*/true);
  const auto config_json = nlohmann::json::parse(ReadFile(dir.path() + "/config.json"));
  EXPECT_FALSE(config_json.contains("quantization_config"));
  auto ckpt = Checkpoint::Open(dir.path());
  ASSERT_TRUE(ckpt.ok()) << ckpt.status().ToString();
  EXPECT_FALSE((*ckpt)->config().is_fp8());
  const LinearWeight w = (*ckpt)->Linear("model.layers.0.self_attn.q_a_proj");
  EXPECT_EQ(w.weight.dtype, DType::kBF16);
  EXPECT_EQ(w.scale_inv, nullptr);
  EXPECT_EQ((*ckpt)->Find("model.layers.0.self_attn.q_a_proj.weight_scale_inv"), nullptr);
}

TEST(CheckpointWriter, SameSeedSameBytesWhateverTheThreadCount) {
  test::TempDir a, b, c;
  CheckpointWriterOptions oa = Options(a.path(), 7), ob = Options(b.path(), 7), oc = Options(c.path(), 8);
  oa.num_threads = 1;
  ob.num_threads = 3;
  ASSERT_TRUE(WriteRandomCheckpoint(TinyConfig(), oa).ok());
  ASSERT_TRUE(WriteRandomCheckpoint(TinyConfig(), ob).ok());
  ASSERT_TRUE(WriteRandomCheckpoint(TinyConfig(), oc).ok());
  int files = 0;
  for (const auto& entry : fs::directory_iterator(a.path())) {
    const std::string name = entry.path().filename().string();
    EXPECT_EQ(ReadFile(entry.path()), ReadFile(fs::path(b.path()) / name)) << name;
    ++files;
  }
  EXPECT_GE(files, 6);  // config, index, tokenizer x2, shards
  // Negative control: another seed changes the weights (same layout, so the same file names).
  const std::string shard = "model-00001-of-0000" + std::to_string(files - 4) + ".safetensors";
  ASSERT_TRUE(fs::exists(fs::path(c.path()) / shard));
  EXPECT_NE(ReadFile(fs::path(a.path()) / shard), ReadFile(fs::path(c.path()) / shard));
}

TEST(CheckpointWriter, Fp8ScalesVaryAcrossBlocksAndUseTheFullRange) {
  test::TempDir dir;
  WriteTiny(dir.path());
  auto ckpt = Checkpoint::Open(dir.path());
  ASSERT_TRUE(ckpt.ok()) << ckpt.status().ToString();
  const LinearWeight w = (*ckpt)->Linear("model.layers.0.self_attn.indexer.wq_b");  // [2048, 256]: 16 x 2 blocks
  ASSERT_EQ(w.scale_inv->shape, (Shape{16, 2}));
  const float* s = w.scale_inv->as<float>();
  const std::set<float> distinct(s, s + 32);
  EXPECT_EQ(distinct.size(), 32u);
  // Per-block factors are log-uniform in [1/2, 2]: the largest scale is well above the smallest.
  EXPECT_GT(*distinct.rbegin() / *distinct.begin(), 2.0f);
  // scale = amax / 448, so every block holds a code of magnitude 448 (0x7e / 0xfe).
  const uint8_t* q = w.weight.as<uint8_t>();
  for (int rb = 0; rb < 16; ++rb)
    for (int cb = 0; cb < 2; ++cb) {
      bool has_max = false;
      for (int r = rb * 128; r < rb * 128 + 128; ++r)
        for (int col = cb * 128; col < cb * 128 + 128; ++col) has_max |= (q[r * 256 + col] & 0x7f) == 0x7e;
      EXPECT_TRUE(has_max) << "block " << rb << "," << cb;
    }
}

TEST(CheckpointWriter, PartialLastRowBlockHasItsOwnScale) {
  test::TempDir dir;
  WriteTiny(dir.path());
  auto ckpt = Checkpoint::Open(dir.path());
  ASSERT_TRUE(ckpt.ok()) << ckpt.status().ToString();
  // kv_a_proj_with_mqa: 128 + 32 = 160 rows, as the real 576 = 4.5 blocks.
  const LinearWeight w = (*ckpt)->Linear("model.layers.0.self_attn.kv_a_proj_with_mqa");
  ASSERT_EQ(w.weight.shape, (Shape{160, 256}));
  ASSERT_EQ(w.scale_inv->shape, (Shape{2, 2}));
  const uint8_t* q = w.weight.as<uint8_t>();
  const float* s = w.scale_inv->as<float>();
  for (int cb = 0; cb < 2; ++cb) {
    // The 32-row block's amax maps to 448: its scale was computed from its own rows only.
    bool has_max = false;
    for (int r = 128; r < 160; ++r)
      for (int col = cb * 128; col < cb * 128 + 128; ++col) has_max |= (q[r * 256 + col] & 0x7f) == 0x7e;
    EXPECT_TRUE(has_max) << "column block " << cb;
    EXPECT_NE(s[2 + cb], s[cb]);
  }
}

TEST(CheckpointWriter, ActivationsStayOrderOne) {
  test::TempDir dir;
  WriteTiny(dir.path());
  auto ckpt = Checkpoint::Open(dir.path());
  ASSERT_TRUE(ckpt.ok()) << ckpt.status().ToString();
  // gain / sqrt(fan_in) times a block factor with rms sqrt(15 / (4 ln 16)) = 1.16 (log-uniform on [1/2, 2]):
  // with 32 blocks, indexer.wq_b's outputs have rms near 1.16.
  const double wq_b = OutputRms((*ckpt)->Linear("model.layers.0.self_attn.indexer.wq_b"));
  EXPECT_GT(wq_b, 0.95);
  EXPECT_LT(wq_b, 1.4);
  // With few blocks only the factor's range [1/2, 2] bounds the output: gain 1 ...
  const double q_a = OutputRms((*ckpt)->Linear("model.layers.0.self_attn.q_a_proj"));
  EXPECT_GT(q_a, 0.5);
  EXPECT_LT(q_a, 2.0);
  // ... and gain 0.5 for the projections that write into the residual stream.
  for (const char* name : {"model.layers.0.self_attn.o_proj", "model.layers.0.mlp.down_proj",
                           "model.layers.1.mlp.experts.3.down_proj"}) {
    const double rms = OutputRms((*ckpt)->Linear(name));
    EXPECT_GT(rms, 0.25) << name;
    EXPECT_LT(rms, 1.0) << name;
  }
  // lm_head (BF16, no block factor) gives logits of std 1.5 on unit-rms inputs.
  LinearWeight head;
  head.weight = (*ckpt)->Get("lm_head.weight");
  EXPECT_NEAR(OutputRms(head), 1.5, 0.1);
  const Tensor embed = ToFloatTensor((*ckpt)->Get("model.embed_tokens.weight"));
  double sq = 0;
  for (float v : embed.data) sq += v * v;
  EXPECT_NEAR(std::sqrt(sq / embed.numel()), 1.0, 0.02);
}

TEST(CheckpointWriter, NormsRouterBiasAndTheirDtypes) {
  test::TempDir dir;
  WriteTiny(dir.path());
  auto ckpt = Checkpoint::Open(dir.path());
  ASSERT_TRUE(ckpt.ok()) << ckpt.status().ToString();
  const ConstTensorView& bias = (*ckpt)->Get("model.layers.1.mlp.gate.e_score_correction_bias");
  EXPECT_EQ(bias.dtype, DType::kF32);
  const Tensor b = ToFloatTensor(bias);
  EXPECT_LE(*std::max_element(b.data.begin(), b.data.end()), 0.1f);
  EXPECT_GE(*std::min_element(b.data.begin(), b.data.end()), -0.1f);
  EXPECT_EQ(std::set<float>(b.data.begin(), b.data.end()).size(), 16u);
  const ConstTensorView& norm = (*ckpt)->Get("model.layers.0.input_layernorm.weight");
  EXPECT_EQ(norm.dtype, DType::kBF16);
  const Tensor n = ToFloatTensor(norm);
  double mean = 0;
  for (float v : n.data) mean += v / n.numel();
  EXPECT_NEAR(mean, 1.0, 0.03);  // 1 + 0.1 z
  EXPECT_EQ((*ckpt)->Get("model.layers.0.self_attn.indexer.weights_proj.weight").dtype, DType::kBF16);
}

TEST(CheckpointWriter, MtpLayerCopiesTheEmbeddingAndHead) {
  test::TempDir dir;
  WriteTiny(dir.path());
  auto ckpt = Checkpoint::Open(dir.path());
  ASSERT_TRUE(ckpt.ok()) << ckpt.status().ToString();
  const Checkpoint& k = **ckpt;
  // The MTP layer is model.layers.2 (after num_hidden_layers = 2).
  EXPECT_EQ(Bytes(k.Get("model.layers.2.embed_tokens.weight")), Bytes(k.Get("model.embed_tokens.weight")));
  EXPECT_EQ(Bytes(k.Get("model.layers.2.shared_head.head.weight")), Bytes(k.Get("lm_head.weight")));
  EXPECT_NE(Bytes(k.Get("model.embed_tokens.weight")), Bytes(k.Get("lm_head.weight")));  // negative control
  EXPECT_EQ(k.Get("model.layers.2.eh_proj.weight").shape, (Shape{256, 512}));
}

TEST(CheckpointWriter, IndexListsEveryTensorAndTheMtpLayerHasItsOwnShards) {
  test::TempDir dir;
  WriteTiny(dir.path());
  const auto index = nlohmann::json::parse(ReadFile(dir.path() + "/model.safetensors.index.json"));
  const auto& map = index["weight_map"];
  uint64_t total = 0;
  std::set<std::string> files;
  for (auto it = map.begin(); it != map.end(); ++it) files.insert(it.value().get<std::string>());
  for (const std::string& f : files) {
    auto shard = SafetensorsFile::Open(dir.path() + "/" + f);
    ASSERT_TRUE(shard.ok()) << shard.status().ToString();
    for (const auto& [name, view] : (*shard)->tensors()) {
      EXPECT_EQ(map.value(name, ""), f) << name;
      total += view.nbytes;
    }
  }
  EXPECT_EQ(index["metadata"]["total_size"].get<uint64_t>(), total);
  const std::string n = std::to_string(files.size());
  EXPECT_EQ(*files.begin(), "model-00001-of-0000" + n + ".safetensors");
  EXPECT_EQ(*files.rbegin(), "model-0000" + n + "-of-0000" + n + ".safetensors");
  // No shard mixes the main model with the MTP layer.
  std::set<std::string> mtp_files, main_files;
  for (auto it = map.begin(); it != map.end(); ++it)
    (it.key().rfind("model.layers.2.", 0) == 0 ? mtp_files : main_files).insert(it.value().get<std::string>());
  for (const std::string& f : mtp_files) EXPECT_EQ(main_files.count(f), 0u) << f;
}

TEST(CheckpointWriter, MatchesTheFixtureLayoutExactly) {
  auto fx = test::SharedFixture("tiny-dsv32-a");
  if (!fx) GTEST_SKIP() << "../shared/fixtures/tiny-dsv32-a not present; layout comparison skipped";
  test::TempDir dir;
  // The tiny preset at the fixture's vocabulary size is the fixture's config.
  ASSERT_TRUE(WriteRandomCheckpoint(TinyConfig(/*num_layers=*/4), Options(dir.path())).ok());
  EXPECT_EQ(nlohmann::json::parse(ReadFile(dir.path() + "/config.json")),
            nlohmann::json::parse(ReadFile(*fx + "/checkpoint/config.json")));
  auto ours = Checkpoint::Open(dir.path());
  auto theirs = Checkpoint::Open(*fx + "/checkpoint");
  ASSERT_TRUE(ours.ok()) << ours.status().ToString();
  ASSERT_TRUE(theirs.ok()) << theirs.status().ToString();
  ASSERT_EQ((*ours)->NumTensors(), (*theirs)->NumTensors());
  const auto index = nlohmann::json::parse(ReadFile(*fx + "/checkpoint/model.safetensors.index.json"));
  for (const auto& [name, file] : index["weight_map"].items()) {
    const ConstTensorView* a = (*ours)->Find(name);
    const ConstTensorView& b = (*theirs)->Get(name);
    ASSERT_NE(a, nullptr) << name;
    EXPECT_EQ(a->dtype, b.dtype) << name;
    EXPECT_EQ(a->shape, b.shape) << name;
  }
}

TEST(CheckpointWriter, RefusesAFolderThatHoldsACheckpoint) {
  test::TempDir dir;
  WriteTiny(dir.path());
  auto again = WriteRandomCheckpoint(TinyConfig(), Options(dir.path()));
  EXPECT_EQ(again.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(again.status().message(), dir.path() + ": already holds a checkpoint (config.json); choose an empty folder");
}

TEST(CheckpointWriter, MissingTokenizerIsNotFound) {
  test::TempDir dir;
  CheckpointWriterOptions o = Options(dir.path() + "/out");
  o.tokenizer_dir = dir.path() + "/nowhere";
  auto r = WriteRandomCheckpoint(TinyConfig(), o);
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(r.status().message(), dir.path() + "/nowhere/tokenizer.json: tokenizer file not found");
  EXPECT_FALSE(fs::exists(dir.path() + "/out"));  // nothing written
}

}  // namespace
}  // namespace sieve::model
