// Structured outputs end to end on the tiny random model with the real tokenizer: constrained greedy
// and sampled choices always finish "stop" with a document that parses and fits the schema, while the
// same requests unconstrained do not (negative control); the grammar waits for its start token
// (thinking mode); and a choice whose complete document may not end yet (min_tokens) ends cleanly.
#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "engine/engine.h"
#include "tests/unit/engine/engine_test_support.h"
#include "text/json_grammar.h"
#include "text/tokenizer.h"

namespace sieve::engine {
namespace {

using test_support::Choice;
using test_support::Collector;
using test_support::Prompt;
using test_support::SmallOptions;
using test_support::TinyModel;

// An object with a boolean and an enum, nothing else: every valid document is short, so a constrained
// choice must reach EOS well within max_tokens.
constexpr const char* kSchema = R"({"type": "object", "properties": {"ok": {"type": "boolean"},
    "color": {"enum": ["red", "green", "blue"]}}, "required": ["ok", "color"], "additionalProperties": false})";

bool FitsSchema(const std::string& text) {
  const nlohmann::json doc = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object() || doc.size() != 2 || !doc.contains("ok") || !doc.contains("color")) return false;
  const nlohmann::json& color = doc["color"];
  return doc["ok"].is_boolean() && color.is_string() &&
         (color == "red" || color == "green" || color == "blue");
}

class EngineStructuredOutput : public ::testing::Test {
 protected:
  void SetUp() override {
    model_ = TinyModel();
    if (!model_) GTEST_SKIP() << "../shared/fixtures/tiny-dsv32-a not present; structured-output tests skipped";
    auto tok = text::Tokenizer::Load(std::string(SIEVE_SOURCE_DIR) + "/assets/tokenizer/tokenizer.json");
    ASSERT_TRUE(tok.ok()) << tok.status().ToString();
    tokenizer_ = std::move(tok).value();
    auto e = Engine::Create(model_, tokenizer_, SmallOptions(*model_, 4096));
    ASSERT_TRUE(e.ok()) << e.status().ToString();
    engine_ = std::move(e).value();
    auto g = text::JsonGrammar::FromSchema(nlohmann::ordered_json::parse(kSchema));
    ASSERT_TRUE(g.ok());
    grammar_ = *g;
  }
  GenerationRequest Request(const std::string& id, int salt, double temperature, int n, bool constrained) {
    GenerationRequest r{id, Prompt(12, salt), {}};
    r.params.temperature = temperature;
    r.params.n = n;
    r.params.max_tokens = 64;
    r.params.seed = static_cast<uint64_t>(salt);
    if (constrained) r.params.json_grammar = grammar_;
    return r;
  }
  std::vector<Choice> Run(GenerationRequest r) {
    Collector c;
    const std::string id = r.request_id;
    const int n = r.params.n;
    EXPECT_TRUE(engine_->Submit(std::move(r), c.Callback()).ok());
    EXPECT_TRUE(c.WaitFinished(n));
    std::vector<Choice> out;
    for (int i = 0; i < n; ++i) out.push_back(c.Get(id, i));
    return out;
  }

  std::shared_ptr<model::Model> model_;
  std::shared_ptr<const text::Tokenizer> tokenizer_;
  std::unique_ptr<Engine> engine_;
  std::shared_ptr<const text::JsonGrammar> grammar_;
};

TEST_F(EngineStructuredOutput, GreedyAndSampledChoicesAreSchemaValid) {
  int valid_unconstrained = 0;
  for (int salt = 1; salt <= 3; ++salt) {
    for (double temperature : {0.0, 1.0}) {
      const std::string id = "so-" + std::to_string(salt) + "-" + std::to_string(temperature > 0);
      for (const Choice& c : Run(Request(id, salt, temperature, temperature > 0 ? 3 : 1, true))) {
        EXPECT_EQ(c.finish_reason, "stop") << c.text;
        EXPECT_TRUE(FitsSchema(c.text)) << c.text;
        EXPECT_EQ(c.tokens.back(), 1) << "ends with EOS";
      }
      for (const Choice& c : Run(Request(id + "-free", salt, temperature, 1, false))) valid_unconstrained += FitsSchema(c.text);
    }
  }
  EXPECT_EQ(valid_unconstrained, 0) << "the random model should not write the schema by itself";
}

TEST_F(EngineStructuredOutput, GrammarStartsAfterItsStartToken) {
  GenerationRequest free = Request("free", 7, 0.0, 1, false);
  free.params.ignore_eos = true;
  free.params.max_tokens = 6;
  const Choice unconstrained = Run(std::move(free))[0];
  ASSERT_EQ(unconstrained.tokens.size(), 6u);
  const int32_t start = unconstrained.tokens[2];
  const size_t first = std::find(unconstrained.tokens.begin(), unconstrained.tokens.end(), start) - unconstrained.tokens.begin();

  GenerationRequest r = Request("after", 7, 0.0, 1, true);
  r.params.grammar_after_token_id = start;
  const Choice c = Run(std::move(r))[0];
  ASSERT_GT(c.tokens.size(), first + 1);
  // Unconstrained up to and including the start token, then a schema-valid document.
  EXPECT_TRUE(std::equal(unconstrained.tokens.begin(), unconstrained.tokens.begin() + first + 1, c.tokens.begin()));
  const std::vector<int32_t> head(c.tokens.begin(), c.tokens.begin() + first + 1);
  const std::string prefix = tokenizer_->Decode(head, true);
  ASSERT_EQ(c.text.compare(0, prefix.size(), prefix), 0);
  EXPECT_EQ(c.finish_reason, "stop");
  EXPECT_TRUE(FitsSchema(c.text.substr(prefix.size()))) << c.text;
  EXPECT_FALSE(FitsSchema(c.text)) << "the text before the start token is not part of the document";
}

TEST_F(EngineStructuredOutput, CompleteDocumentUnderMinTokensEndsAsStop) {
  GenerationRequest r = Request("min", 3, 0.0, 1, true);
  r.params.min_tokens = 60;  // more than any document of the schema takes: EOS stays forbidden
  const Choice c = Run(std::move(r))[0];
  EXPECT_EQ(c.finish_reason, "stop");
  EXPECT_TRUE(FitsSchema(c.text)) << c.text;
  EXPECT_NE(c.tokens.back(), 1) << "EOS was never sampled";
}

}  // namespace
}  // namespace sieve::engine
