// Bad checkpoints (issue 3, item 5): each corruption of a valid tiny checkpoint gives one exact line naming the
// file and the tensor, from Checkpoint::Open and from `sieve inspect`, which exits 1.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <sstream>

#include "model/checkpoint.h"
#include "tests/test_support.h"
#include "tests/unit/model/tiny_checkpoint.h"

namespace sieve::model {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::string ReadFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The u64 little-endian length prefix of a safetensors file.
uint64_t HeaderLength(const std::string& bytes) {
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | static_cast<uint8_t>(bytes[i]);
  return n;
}

void WriteFile(const fs::path& p, const std::string& bytes) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << bytes;
}

class BadCheckpoint : public ::testing::Test {
 protected:
  void SetUp() override { test_checkpoint::WriteTiny(dir_.path()); }

  std::string Path(const std::string& file) const { return dir_.path() + "/" + file; }
  json Index() const { return json::parse(ReadFile(Path("model.safetensors.index.json"))); }
  std::string FileOf(const std::string& tensor) const { return Index()["weight_map"][tensor].get<std::string>(); }

  // Re-serialises a shard with an edited header; the data section is kept byte for byte (offsets are
  // relative to it).
  void EditHeader(const std::string& file, const std::function<void(json&)>& edit) const {
    const std::string bytes = ReadFile(Path(file));
    const uint64_t n = HeaderLength(bytes);
    json header = json::parse(bytes.substr(8, n));
    edit(header);
    std::string text = header.dump();
    while (text.size() % 8) text.push_back(' ');
    std::string prefix(8, '\0');
    for (int i = 0; i < 8; ++i) prefix[i] = static_cast<char>((text.size() >> (8 * i)) & 0xff);
    WriteFile(Path(file), prefix + text + bytes.substr(8 + n));
  }

  void RemoveTensor(const std::string& name) const {
    EditHeader(FileOf(name), [&](json& h) { h.erase(name); });
    json index = Index();
    index["weight_map"].erase(name);
    WriteFile(Path("model.safetensors.index.json"), index.dump(2));
  }

  // Both edges report the same single line: the library's message, and the CLI's "sieve: <message>" + exit 1.
  void ExpectFailure(const std::string& message) const {
    auto ckpt = Checkpoint::Open(dir_.path());
    ASSERT_FALSE(ckpt.ok());
    EXPECT_EQ(ckpt.status().message(), message);
    std::string output;
    const int rc = test::RunCommand(test::SieveBinary() + " inspect " + dir_.path(), &output);
    EXPECT_EQ(rc, 1);
    EXPECT_EQ(output, "sieve: " + message + "\n");
  }

  test::TempDir dir_;
};

TEST_F(BadCheckpoint, UntouchedCheckpointInspectsCleanly) {  // negative control for every case below
  EditHeader(FileOf("lm_head.weight"), [](json&) {});        // the rewrite itself breaks nothing
  std::string output;
  EXPECT_EQ(test::RunCommand(test::SieveBinary() + " inspect " + dir_.path(), &output), 0) << output;
  EXPECT_NE(output.find("\"status\": \"ok\""), std::string::npos) << output;
}

TEST_F(BadCheckpoint, MissingShardFile) {
  const std::string file = FileOf("lm_head.weight");
  size_t count = 0;
  std::string first;
  const json index = Index();
  for (const auto& [name, f] : index["weight_map"].items())
    if (f.get<std::string>() == file && count++ == 0) first = name;
  fs::remove(Path(file));
  ExpectFailure(Path(file) + ": shard file not found (model.safetensors.index.json maps " + std::to_string(count) +
                " tensors to it, e.g. " + first + ")");
}

TEST_F(BadCheckpoint, TruncatedShard) {
  const std::string file = FileOf("model.layers.0.self_attn.o_proj.weight");
  const std::string bytes = ReadFile(Path(file));
  const uint64_t n = HeaderLength(bytes);
  // Cutting one byte leaves exactly the tensor at the end of the data section out of range.
  std::string last;
  uint64_t last_begin = 0, last_end = 0;
  const json header = json::parse(bytes.substr(8, n));
  for (const auto& [name, e] : header.items()) {
    if (name == "__metadata__" || e["data_offsets"][1].get<uint64_t>() <= last_end) continue;
    last_begin = e["data_offsets"][0].get<uint64_t>();
    last_end = e["data_offsets"][1].get<uint64_t>();
    last = name;
  }
  fs::resize_file(Path(file), bytes.size() - 1);
  ExpectFailure(Path(file) + ": tensor " + last + ": data_offsets [" + std::to_string(last_begin) + ", " +
                std::to_string(last_end) + "] outside the data section of " +
                std::to_string(bytes.size() - 1 - 8 - n) + " bytes (truncated file?)");
}

TEST_F(BadCheckpoint, GarbageHeaderIsNotJson) {
  const std::string file = FileOf("model.embed_tokens.weight");
  std::string bytes = ReadFile(Path(file));
  const uint64_t n = HeaderLength(bytes);
  std::fill(bytes.begin() + 8, bytes.begin() + 8 + static_cast<int64_t>(n), '\x9c');  // binary garbage
  WriteFile(Path(file), bytes);
  ExpectFailure(Path(file) + ": safetensors header is not valid JSON (parse error at byte 1 of " + std::to_string(n) +
                ")");
}

TEST_F(BadCheckpoint, HeaderLengthLargerThanFile) {
  const std::string file = FileOf("model.embed_tokens.weight");
  std::string bytes = ReadFile(Path(file));
  const uint64_t claimed = bytes.size() * 2;
  for (int i = 0; i < 8; ++i) bytes[i] = static_cast<char>((claimed >> (8 * i)) & 0xff);
  WriteFile(Path(file), bytes);
  ExpectFailure(Path(file) + ": safetensors header length " + std::to_string(claimed) + " exceeds the file size " +
                std::to_string(bytes.size()));
}

TEST_F(BadCheckpoint, WrongShape) {
  const std::string name = "model.layers.0.self_attn.kv_a_proj_with_mqa.weight";
  EditHeader(FileOf(name), [&](json& h) { h[name]["shape"] = {256, 160}; });  // same bytes, transposed
  ExpectFailure(Path(FileOf(name)) + ": " + name + ": shape [256, 160], expected [160, 256]");
}

TEST_F(BadCheckpoint, WrongDtype) {
  const std::string name = "model.layers.0.self_attn.o_proj.weight";
  EditHeader(FileOf(name), [&](json& h) { h[name]["dtype"] = "I8"; });  // same size as F8_E4M3
  ExpectFailure(Path(FileOf(name)) + ": " + name + ": dtype I8, expected F8_E4M3");
}

TEST_F(BadCheckpoint, WrongDtypeOfANorm) {
  const std::string name = "model.norm.weight";
  EditHeader(FileOf(name), [&](json& h) { h[name]["dtype"] = "I16"; });
  ExpectFailure(Path(FileOf(name)) + ": " + name + ": dtype I16, expected BF16, F16 or F32");
}

TEST_F(BadCheckpoint, MissingTensor) {
  const std::string name = "model.layers.1.mlp.gate.weight";
  RemoveTensor(name);
  ExpectFailure(Path("model.safetensors.index.json") + ": missing tensor " + name);
}

TEST_F(BadCheckpoint, TensorListedInIndexButAbsentFromShard) {
  const std::string name = "model.layers.1.mlp.gate.weight";
  const std::string file = FileOf(name);
  EditHeader(file, [&](json& h) { h.erase(name); });
  ExpectFailure(Path(file) + ": missing tensor " + name + " (listed in model.safetensors.index.json)");
}

TEST_F(BadCheckpoint, MissingScaleTensor) {
  const std::string name = "model.layers.0.self_attn.q_a_proj.weight_scale_inv";
  RemoveTensor(name);
  ExpectFailure(Path("model.safetensors.index.json") + ": missing tensor " + name);
}

TEST_F(BadCheckpoint, WrongScaleShape) {
  const std::string name = "model.layers.0.self_attn.kv_a_proj_with_mqa.weight_scale_inv";
  EditHeader(FileOf(name), [&](json& h) { h[name]["shape"] = {4, 1}; });  // same 4 floats
  ExpectFailure(Path(FileOf(name)) + ": " + name +
                ": shape [4, 1], expected [2, 2] for weight [160, 256] in 128x128 blocks");
}

TEST_F(BadCheckpoint, UnknownModelType) {
  json config = json::parse(ReadFile(Path("config.json")));
  config["model_type"] = "llama";
  WriteFile(Path("config.json"), config.dump(2));
  ExpectFailure(Path("config.json") + ": unknown model_type \"llama\" (supported: deepseek_v32, deepseek_v3)");
}

}  // namespace
}  // namespace sieve::model
