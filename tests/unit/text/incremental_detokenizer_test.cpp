// Streaming detokenization: concatenated deltas equal the one-shot decode, and no delta carries a
// replacement character that the one-shot decode does not have (no broken characters mid-stream).
#include "text/incremental_detokenizer.h"

#include <gtest/gtest.h>

#include <random>

#include "tests/unit/text/text_fixtures.h"
#include "text/utf8.h"

namespace sieve::text {
namespace {

using testing::FixtureTokenizer;
using testing::ReadJsonl;

const std::string kReplacement = "\xEF\xBF\xBD";

size_t CountReplacements(const std::string& s) {
  size_t n = 0;
  for (size_t p = s.find(kReplacement); p != std::string::npos; p = s.find(kReplacement, p + 1)) ++n;
  return n;
}

// Streams `ids` and checks the two properties; returns the concatenated text.
std::string StreamAndCheck(const Tokenizer& tok, const std::vector<int32_t>& ids, bool skip) {
  IncrementalDetokenizer detok(tok, skip);
  std::string streamed;
  for (int32_t id : ids) {
    const std::string delta = detok.Push(id);
    EXPECT_TRUE(IsValidUtf8(delta));
    streamed += delta;
  }
  streamed += detok.Flush();
  const std::string full = tok.Decode(ids, skip);
  EXPECT_EQ(streamed, full);
  EXPECT_EQ(CountReplacements(streamed), CountReplacements(full));
  return streamed;
}

TEST(IncrementalDetokenizer, EveryVectorStreamsLikeOneShotDecode) {
  const Tokenizer* tok = FixtureTokenizer();
  if (tok == nullptr) GTEST_SKIP() << "../shared/fixtures/tokenizer not present";
  for (const auto& row : ReadJsonl(*test::SharedFixture("tokenizer") + "/vectors.jsonl")) {
    auto ids = row["ids"].get<std::vector<int32_t>>();
    // add_bos rows carry a leading BOS id that the text does not show.
    if (row.value("add_bos", false)) ids.erase(ids.begin());
    EXPECT_EQ(StreamAndCheck(*tok, ids, false), row["text"].get<std::string>());
    StreamAndCheck(*tok, ids, true);
  }
  for (const auto& row : ReadJsonl(*test::SharedFixture("tokenizer") + "/decode_vectors.jsonl")) {
    const auto ids = row["ids"].get<std::vector<int32_t>>();
    StreamAndCheck(*tok, ids, false);
    StreamAndCheck(*tok, ids, true);
  }
}

TEST(IncrementalDetokenizer, RandomIdSequencesStreamLikeOneShotDecode) {
  const Tokenizer* tok = FixtureTokenizer();
  if (tok == nullptr) GTEST_SKIP() << "../shared/fixtures/tokenizer not present";
  std::mt19937 rng(1234);
  // Byte-level single-byte tokens (ids < 256) produce many cut characters; include padded rows too.
  std::uniform_int_distribution<int32_t> small(0, 255), any(0, 129279);
  for (int trial = 0; trial < 300; ++trial) {
    std::vector<int32_t> ids(1 + trial % 17);
    for (auto& id : ids) id = (rng() % 3 == 0) ? any(rng) : small(rng);
    StreamAndCheck(*tok, ids, trial % 2 == 0);
  }
}

TEST(IncrementalDetokenizer, HoldsBackAnUnfinishedCharacter) {
  const Tokenizer* tok = FixtureTokenizer();
  if (tok == nullptr) GTEST_SKIP() << "../shared/fixtures/tokenizer not present";
  // "你" is E4 BD A0; ids 163 ('ä' = E4), 126? Build from the byte tokens directly.
  const auto e4 = tok->TokenToId("ä"), bd = tok->TokenToId("½"), a0 = tok->TokenToId("ł");
  ASSERT_TRUE(e4 && bd && a0);
  IncrementalDetokenizer detok(*tok, false);
  EXPECT_EQ(detok.Push(*e4), "");
  EXPECT_EQ(detok.Push(*bd), "");
  EXPECT_EQ(detok.Push(*a0), "你");
  // Negative control: decoding token by token (what a naive streamer does) breaks the character.
  EXPECT_NE(tok->Decode({*e4}, false) + tok->Decode({*bd}, false) + tok->Decode({*a0}, false), "你");
  // A cut-off character at the end is flushed as U+FFFD, exactly as Decode does.
  EXPECT_EQ(detok.Push(*e4), "");
  EXPECT_EQ(detok.Flush(), kReplacement);
}

}  // namespace
}  // namespace sieve::text
