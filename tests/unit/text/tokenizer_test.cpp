// Tokenizer golden tests: every encode and decode vector of ../shared/fixtures/tokenizer must match
// Hugging Face `tokenizers` exactly.
#include "text/tokenizer.h"

#include <gtest/gtest.h>

#include "tests/unit/text/text_fixtures.h"

namespace sieve::text {
namespace {

using testing::FixtureTokenizer;
using testing::ReadJsonl;

#define SKIP_WITHOUT_FIXTURE()                                                                \
  const Tokenizer* tok = FixtureTokenizer();                                                  \
  if (tok == nullptr) GTEST_SKIP() << "../shared/fixtures/tokenizer not present; golden test skipped"

TEST(TokenizerGolden, EveryEncodeVectorMatches) {
  SKIP_WITHOUT_FIXTURE();
  const auto rows = ReadJsonl(*test::SharedFixture("tokenizer") + "/vectors.jsonl");
  ASSERT_EQ(rows.size(), 394u);
  int passed = 0;
  for (const auto& row : rows) {
    std::vector<int32_t> got = tok->Encode(row["text"].get<std::string>());
    // add_bos rows: LlamaTokenizerFast prepends BOS (id 0) because add_bos_token is true.
    if (row.value("add_bos", false)) got.insert(got.begin(), 0);
    const auto want = row["ids"].get<std::vector<int32_t>>();
    if (got == want) {
      ++passed;
    } else {
      ADD_FAILURE() << row["category"] << " " << row["text"].dump() << "\n got " << nlohmann::json(got).dump()
                    << "\nwant " << nlohmann::json(want).dump();
    }
  }
  EXPECT_EQ(passed, 394);
}

TEST(TokenizerGolden, EveryDecodeVectorMatches) {
  SKIP_WITHOUT_FIXTURE();
  const auto rows = ReadJsonl(*test::SharedFixture("tokenizer") + "/decode_vectors.jsonl");
  ASSERT_EQ(rows.size(), 73u);
  for (const auto& row : rows) {
    const auto ids = row["ids"].get<std::vector<int32_t>>();
    EXPECT_EQ(tok->Decode(ids, false), row["text"].get<std::string>()) << row["note"];
    EXPECT_EQ(tok->Decode(ids, true), row["text_skip_special"].get<std::string>()) << row["note"];
  }
}

TEST(TokenizerGolden, EncodeThenDecodeRoundTrips) {
  SKIP_WITHOUT_FIXTURE();
  for (const auto& row : ReadJsonl(*test::SharedFixture("tokenizer") + "/vectors.jsonl")) {
    const std::string text = row["text"].get<std::string>();
    EXPECT_EQ(tok->Decode(tok->Encode(text), false), text);
  }
}

// Negative control: the comparison above sees a one-character change and the added-token rule.
TEST(TokenizerGolden, DifferentTextGivesDifferentIds) {
  SKIP_WITHOUT_FIXTURE();
  EXPECT_EQ(tok->Encode("Hello world"), (std::vector<int32_t>{19923, 2058}));
  EXPECT_NE(tok->Encode("Hello  world"), (std::vector<int32_t>{19923, 2058}));
  EXPECT_EQ(tok->Encode("a<think>b"), (std::vector<int32_t>{67, 128798, 68}));
  EXPECT_NE(tok->Encode("a<think >b").size(), 3u);
}

TEST(Tokenizer, SpecialFlagsAndLookups) {
  SKIP_WITHOUT_FIXTURE();
  EXPECT_EQ(tok->vocab_size(), 128815);
  EXPECT_TRUE(tok->IsSpecial(0));
  EXPECT_TRUE(tok->IsSpecial(1));
  EXPECT_FALSE(tok->IsSpecial(128798));  // <think> stays with skip_special_tokens
  EXPECT_EQ(tok->TokenToId("</think>"), 128799);
  EXPECT_EQ(tok->TokenToId("Ġworld"), 2058);
  EXPECT_EQ(tok->TokenToId("no such token"), std::nullopt);
  EXPECT_EQ(tok->IdToToken(128804), "<｜Assistant｜>");
}

TEST(Tokenizer, IdsWithoutTokenDecodeAsNothing) {
  SKIP_WITHOUT_FIXTURE();
  // 128815..129279 are padded rows of the model's vocabulary; negative ids are garbage.
  EXPECT_EQ(tok->Decode({19923, 129000, -5, 2058}, false), "Hello world");
}

TEST(Tokenizer, InvalidUtf8InputIsRepairedNotRejected) {
  SKIP_WITHOUT_FIXTURE();
  EXPECT_EQ(tok->Decode(tok->Encode("a\xff" "b"), false), "a\xEF\xBF\xBD" "b");
}

TEST(Tokenizer, MissingOrMalformedFileIsAStatus) {
  auto missing = Tokenizer::Load("/nonexistent/tokenizer.json");
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  test::TempDir dir;
  const std::string path = dir.path() + "/tokenizer.json";
  std::ofstream(path) << R"({"model": {"type": "Unigram", "vocab": []}})";
  auto bad = Tokenizer::Load(path);
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  std::ofstream(path) << R"({"model": {"type": 5}})";
  EXPECT_EQ(Tokenizer::Load(path).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace sieve::text
