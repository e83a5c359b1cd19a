// `sieve generate` on the tiny-dsv32-a fixture: greedy ids equal the golden continuation of prompt 0,
// usage errors exit 2, a bad model folder exits 1.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>

#include "tests/test_support.h"
#include "text/tokenizer.h"
#include "tests/unit/model/forward_test_support.h"

namespace sieve::model {
namespace {

// The JSON line of the output (RunCommand merges stderr, which carries the tokens/s line).
nlohmann::json JsonLine(const std::string& output) {
  const size_t begin = output.find('{');
  if (begin == std::string::npos) return nullptr;
  return nlohmann::json::parse(output.substr(begin, output.find('\n', begin) - begin), nullptr, false);
}

TEST(GenerateCli, GreedyIdsMatchTheGoldenContinuation) {
  auto fx = test::SharedFixture("tiny-dsv32-a");
  if (!fx) GTEST_SKIP() << "../shared/fixtures/tiny-dsv32-a not present; test skipped";
  const test_support::GoldenFile prompts(*fx + "/golden/prompts.safetensors");
  const test_support::GoldenFile logits(*fx + "/golden/fp32_logits.safetensors");
  std::string ids;
  for (int32_t id : prompts.Ints("prompt_0")) {
    if (!ids.empty()) ids += ',';
    ids += std::to_string(id);
  }
  std::string output;
  const int rc = test::RunCommand(test::SieveBinary() + " generate --model " + *fx + "/checkpoint --prompt-ids " + ids +
                                      " --max-tokens 16 --json --ignore-eos --threads 2",
                                  &output);
  ASSERT_EQ(rc, 0) << output;
  const nlohmann::json j = JsonLine(output);
  ASSERT_TRUE(j.is_object()) << output;
  EXPECT_EQ(j["ids"].get<std::vector<int32_t>>(), logits.Ints("gen_tokens_0"));
  EXPECT_FALSE(j.contains("text"));  // the fixture has no tokenizer
  EXPECT_NE(output.find("tokens/s"), std::string::npos);
  // The same ids from weights copied into memory (--no-mmap; the fixture's tensors are off cache lines).
  ASSERT_EQ(test::RunCommand(test::SieveBinary() + " generate --model " + *fx + "/checkpoint --prompt-ids " + ids +
                                 " --max-tokens 16 --json --ignore-eos --threads 2 --no-mmap",
                             &output),
            0)
      << output;
  EXPECT_EQ(JsonLine(output)["ids"].get<std::vector<int32_t>>(), logits.Ints("gen_tokens_0"));
  // Negative control: a different prompt gives a different continuation.
  ASSERT_EQ(test::RunCommand(test::SieveBinary() + " generate --model " + *fx + "/checkpoint --prompt-ids 0,5,6 "
                                 "--max-tokens 16 --json --ignore-eos", &output), 0);
  EXPECT_NE(JsonLine(output)["ids"].get<std::vector<int32_t>>(), logits.Ints("gen_tokens_0"));
}

// --prompt encodes BOS + text with the folder's tokenizer.json and prints the decoded text. The fixture has
// no tokenizer, so the test pairs its checkpoint with the vendored one; "x y" encodes to ids < 2048.
TEST(GenerateCli, TextPromptIsEncodedWithBosAndDecoded) {
  auto fx = test::SharedFixture("tiny-dsv32-a");
  if (!fx) GTEST_SKIP() << "../shared/fixtures/tiny-dsv32-a not present; test skipped";
  namespace fs = std::filesystem;
  test::TempDir dir;
  for (const auto& e : fs::directory_iterator(*fx + "/checkpoint"))
    fs::create_symlink(e.path(), fs::path(dir.path()) / e.path().filename());
  const std::string tokenizer_json = std::string(SIEVE_SOURCE_DIR) + "/assets/tokenizer/tokenizer.json";
  fs::copy_file(tokenizer_json, fs::path(dir.path()) / "tokenizer.json");
  auto tokenizer = text::Tokenizer::Load(tokenizer_json);
  ASSERT_TRUE(tokenizer.ok());
  std::string ids = "0";  // BOS
  for (int32_t id : (*tokenizer)->Encode("x y")) {
    ids += ',';
    ids += std::to_string(id);
  }
  std::string by_text, by_ids;
  ASSERT_EQ(test::RunCommand(test::SieveBinary() + " generate --model " + dir.path() +
                                 " --prompt 'x y' --max-tokens 4 --json --ignore-eos", &by_text), 0) << by_text;
  ASSERT_EQ(test::RunCommand(test::SieveBinary() + " generate --model " + dir.path() + " --prompt-ids " + ids +
                                 " --max-tokens 4 --json --ignore-eos", &by_ids), 0) << by_ids;
  const nlohmann::json a = JsonLine(by_text), b = JsonLine(by_ids);
  EXPECT_EQ(a["ids"], b["ids"]);
  EXPECT_EQ(a["text"].get<std::string>(), (*tokenizer)->Decode(a["ids"].get<std::vector<int32_t>>(), true));
}

TEST(GenerateCli, ErrorsExitWithUsageOrRuntimeCodes) {
  std::string output;
  test::TempDir empty;
  EXPECT_EQ(test::RunCommand(test::SieveBinary() + " generate --model " + empty.path() + " --prompt-ids 0,x", &output), 2)
      << output;
  EXPECT_EQ(test::RunCommand(test::SieveBinary() + " generate --model " + empty.path(), &output), 2) << output;
  EXPECT_EQ(test::RunCommand(test::SieveBinary() + " generate --model " + empty.path() + " --prompt-ids 0,1", &output), 1)
      << output;
  EXPECT_NE(output.find("sieve: "), std::string::npos);
}

}  // namespace
}  // namespace sieve::model
