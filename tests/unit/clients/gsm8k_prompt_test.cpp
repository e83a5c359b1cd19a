// lm-eval's GSM8K prompts, byte for byte: docs 0..9 against expected_prompts.jsonl (completion prompt,
// both chat message lists, the /v1/completions body) and the sha256 of all 1319 prompts.
#include "clients/gsm8k_prompt.h"

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "clients/gsm8k_request.h"
#include "tests/test_support.h"

namespace sieve::clients {
namespace {

class Gsm8kPromptTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fixture_ = test::SharedFixture("gsm8k");
    if (!fixture_) GTEST_SKIP() << "../shared/fixtures/gsm8k not present; prompt tests skipped";
    const std::string assets = std::string(SIEVE_SOURCE_DIR) + "/assets/gsm8k";
    auto test = LoadGsm8kSplit(assets + "/test.jsonl");
    auto train = LoadGsm8kSplit(assets + "/train.jsonl");
    ASSERT_TRUE(test.ok() && train.ok()) << test.status().message() << train.status().message();
    test_ = *test;
    train_ = *train;
    shots_ = DrawFewshotIndices(train_.size(), test_.size(), 5);
  }
  std::vector<nlohmann::json> ExpectedDocs() const {
    std::ifstream in(*fixture_ + "/expected_prompts.jsonl");
    std::vector<nlohmann::json> docs;
    for (std::string line; std::getline(in, line);) docs.push_back(nlohmann::json::parse(line));
    return docs;
  }
  static nlohmann::json ToJson(const std::vector<ChatMessage>& messages) {
    nlohmann::json j = nlohmann::json::array();
    for (const auto& m : messages) j.push_back({{"role", m.role}, {"content", m.content}});
    return j;
  }

  std::optional<std::string> fixture_;
  std::vector<Gsm8kDoc> test_, train_;
  std::vector<std::vector<size_t>> shots_;
};

TEST_F(Gsm8kPromptTest, SplitsHaveUpstreamSizes) {
  EXPECT_EQ(test_.size(), 1319u);
  EXPECT_EQ(train_.size(), 7473u);
}

TEST_F(Gsm8kPromptTest, FirstTenDocsAreByteIdentical) {
  const auto docs = ExpectedDocs();
  ASSERT_EQ(docs.size(), 10u);
  for (const auto& d : docs) {
    const size_t id = d["doc_id"].get<size_t>();
    SCOPED_TRACE("doc " + std::to_string(id));
    EXPECT_EQ(shots_[id], d["fewshot_train_indices"].get<std::vector<size_t>>());
    EXPECT_EQ(CompletionPrompt(test_[id], shots_[id], train_), d["prompt"].get<std::string>());
    EXPECT_EQ(test_[id].answer, d["gold"].get<std::string>());
    EXPECT_EQ(ToJson(MultiturnMessages(test_[id], shots_[id], train_)), d["chat_messages_multiturn"]);
    Gsm8kGeneration gen;
    gen.model = "<model>";
    EXPECT_EQ(CompletionsBody(CompletionPrompt(test_[id], shots_[id], train_), gen), d["completions_body"]);
  }
  // Negative control: the neighbouring doc's shots give a different prompt.
  EXPECT_NE(CompletionPrompt(test_[0], shots_[1], train_), docs[0]["prompt"].get<std::string>());
}

TEST_F(Gsm8kPromptTest, FewshotPrefixOfDocZero) {
  std::ifstream in(*fixture_ + "/fewshot_5.txt", std::ios::binary);
  std::stringstream prefix;
  prefix << in.rdbuf();
  const std::string prompt = CompletionPrompt(test_[0], shots_[0], train_);
  EXPECT_EQ(prompt, prefix.str() + "Question: " + test_[0].question + "\nAnswer:");
}

TEST_F(Gsm8kPromptTest, AllPromptsHaveTheExpectedSha256) {
  // sha256 of every prompt via coreutils sha256sum, one process for all 1319 files.
  test::TempDir dir;
  for (size_t i = 0; i < test_.size(); ++i) {
    std::ofstream out(dir.path() + "/" + std::to_string(i), std::ios::binary);
    out << CompletionPrompt(test_[i], shots_[i], train_);
  }
  std::string output;
  ASSERT_EQ(test::RunCommand("cd " + dir.path() + " && sha256sum *", &output), 0) << output;
  std::map<size_t, std::string> got;
  std::istringstream lines(output);
  for (std::string hash, name; lines >> hash >> name;) got[std::stoul(name)] = hash;
  std::ifstream in(*fixture_ + "/prompt_sha256_all.txt");
  size_t checked = 0;
  for (size_t id; in >> id;) {
    std::string want;
    in >> want;
    EXPECT_EQ(got[id], want) << "doc " << id;
    ++checked;
  }
  EXPECT_EQ(checked, 1319u);
  // Negative control: one extra byte changes the hash.
  {
    std::ofstream out(dir.path() + "/0", std::ios::binary);
    out << CompletionPrompt(test_[0], shots_[0], train_) << " ";
  }
  ASSERT_EQ(test::RunCommand("cd " + dir.path() + " && sha256sum 0", &output), 0);
  EXPECT_EQ(output.find(got[0]), std::string::npos);
}

}  // namespace
}  // namespace sieve::clients
