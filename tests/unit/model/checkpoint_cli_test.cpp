// `sieve make-checkpoint` end to end: the real-vocabulary tiny preset is written with the tokenizer and
// passes `sieve inspect`; usage and runtime errors exit 2 and 1 with one line.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "tests/test_support.h"

namespace sieve {
namespace {

namespace fs = std::filesystem;

std::string ReadFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(MakeCheckpointCli, TinyPresetInspectsWithTheRealVocabulary) {
  test::TempDir dir;
  const std::string out = dir.path() + "/tiny";
  std::string output;
  // One layer keeps the test fast; the vocabulary (4 x 66 MB of BF16 matrices) is the real one.
  ASSERT_EQ(test::RunCommand(test::SieveBinary() + " make-checkpoint --out " + out +
                                 " --preset tiny --num-layers 1 --seed 3",
                             &output),
            0)
      << output;
  EXPECT_EQ(output.rfind("wrote " + out + ": preset tiny (fp8), 1 layers + 1 MTP, ", 0), 0u) << output;
  ASSERT_EQ(test::RunCommand(test::SieveBinary() + " inspect " + out, &output), 0) << output;
  EXPECT_NE(output.find("\"vocab_size\": 129280"), std::string::npos) << output;
  EXPECT_NE(output.find("\"weights\": \"fp8\""), std::string::npos) << output;
  EXPECT_EQ(ReadFile(out + "/tokenizer_config.json"),
            ReadFile(std::string(SIEVE_SOURCE_DIR) + "/assets/tokenizer/tokenizer_config.json"));
  EXPECT_TRUE(fs::exists(out + "/model.safetensors.index.json"));
}

TEST(MakeCheckpointCli, UnknownPresetIsAUsageError) {
  test::TempDir dir;
  std::string output;
  EXPECT_EQ(test::RunCommand(test::SieveBinary() + " make-checkpoint --out " + dir.path() + " --preset huge", &output),
            2);
  EXPECT_EQ(output.find('\n'), output.size() - 1) << "one line: " << output;
  EXPECT_FALSE(fs::exists(dir.path() + "/config.json"));
}

TEST(MakeCheckpointCli, MissingAssetsFolderIsReported) {
  test::TempDir dir;
  std::string output;
  EXPECT_EQ(test::RunCommand("SIEVE_ASSETS=" + dir.path() + "/none " + test::SieveBinary() +
                                 " make-checkpoint --out " + dir.path() + "/out --preset tiny",
                             &output),
            1);
  EXPECT_EQ(output, "sieve: SIEVE_ASSETS=" + dir.path() + "/none: no tokenizer/tokenizer.json in it\n");
}

}  // namespace
}  // namespace sieve
