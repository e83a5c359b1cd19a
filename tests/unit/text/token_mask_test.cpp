// TokenTrie / TokenMasker: the trie walk gives exactly the tokens a brute-force check (feed every
// token's bytes to a copy of the state) accepts, on a small synthetic vocabulary and on the real
// 129280-token tokenizer; the real-vocabulary mask cost is printed.
#include "text/token_trie.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>

#include "tests/unit/text/text_fixtures.h"

namespace sieve::text {
namespace {

using Json = nlohmann::ordered_json;

bool Allowed(const std::vector<uint64_t>& mask, size_t id) { return (mask[id / 64] >> (id % 64)) & 1; }

// Checks the trie mask of `state` against feeding each token by itself; returns how many are allowed.
size_t ExpectExact(const std::vector<std::string>& vocab, const TokenTrie& trie, const JsonRecognizer& state) {
  TokenMasker masker(trie);
  std::vector<uint64_t> mask((vocab.size() + 63) / 64);
  masker.Compute(state, mask);
  size_t n = 0;
  JsonRecognizer probe = state;
  for (size_t id = 0; id < vocab.size(); ++id) {
    probe.CopyFrom(state);
    const bool expected = !vocab[id].empty() && probe.Feed(vocab[id]);
    EXPECT_EQ(Allowed(mask, id), expected) << "token " << id << " '" << vocab[id] << "'";
    n += expected;
  }
  return n;
}

TEST(TokenMaskTest, SyntheticVocabularyExact) {
  const std::vector<std::string> vocab = {"{", "}", "\"", "\"ok", "\":", " true", "true", "tr", "ue", "false}",
                                          "{\"", "ok\"", ":", ",", " ", "  ", "   ", "x", "", "\"ok\": true}"};
  TokenTrie trie(vocab);
  auto g = JsonGrammar::FromSchema(Json::parse(
      R"({"type": "object", "properties": {"ok": {"type": "boolean"}}, "required": ["ok"]})"));
  ASSERT_TRUE(g.ok());
  JsonRecognizer state(*g);
  EXPECT_EQ(ExpectExact(vocab, trie, state), 4u);  // "{", "{\"", " ", "  "
  ASSERT_TRUE(state.Feed("{\"ok\":"));
  // " true", "true", "tr", "false}", " ", "  "
  EXPECT_EQ(ExpectExact(vocab, trie, state), 6u);
  ASSERT_TRUE(state.Feed("true}"));
  EXPECT_TRUE(state.IsComplete());
  EXPECT_EQ(ExpectExact(vocab, trie, state), 0u);  // complete: only end-of-sequence, the caller's
}

TEST(TokenMaskTest, RealVocabularyExactAndTimed) {
  const Tokenizer* tok = testing::FixtureTokenizer();
  if (tok == nullptr) GTEST_SKIP() << "../shared/fixtures/tokenizer is absent";
  std::vector<std::string> vocab(static_cast<size_t>(tok->vocab_size()));
  for (int32_t id = 0; id < tok->vocab_size(); ++id)
    if (!tok->IsSpecial(id)) vocab[static_cast<size_t>(id)] = std::string(tok->IdBytes(id));
  const auto t0 = std::chrono::steady_clock::now();
  const TokenTrie trie = TokenTrie::FromTokenizer(*tok);
  const double build_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();

  auto g = JsonGrammar::FromSchema(Json::parse(R"({"type": "object", "properties": {
      "name": {"type": "string"}, "age": {"type": "integer"}, "tags": {"type": "array", "items": {"type": "string"}}},
      "required": ["name", "age"]})"));
  ASSERT_TRUE(g.ok());
  const char* prefixes[] = {"", "{\"", "{\"name\": \"Ada Lovel", "{\"name\": \"A\", \"age\": 3", "{\"name\": \"A\", \"age\": 3, \"tags\": ["};
  TokenMasker masker(trie);
  std::vector<uint64_t> mask((vocab.size() + 63) / 64);
  for (const char* prefix : prefixes) {
    JsonRecognizer state(*g);
    ASSERT_TRUE(state.Feed(prefix)) << prefix;
    const size_t n = ExpectExact(vocab, trie, state);
    EXPECT_GT(n, 0u) << prefix;
    constexpr int kReps = 5;
    const auto s0 = std::chrono::steady_clock::now();
    for (int i = 0; i < kReps; ++i) masker.Compute(state, mask);
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - s0).count() / kReps;
    std::printf("[mask] vocab %zu, after '%s': %zu allowed, %.2f ms per mask (trie build %.0f ms)\n", vocab.size(),
                prefix, n, ms, build_ms);
  }
}

}  // namespace
}  // namespace sieve::text
