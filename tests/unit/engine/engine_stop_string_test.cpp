// Stop strings end to end: the tiny fixture model with the real DeepSeek tokenizer (assets/tokenizer;
// the fixture's 2048 ids are ordinary BPE tokens there). A stop string that spans two tokens is found,
// cut exactly, and the streamed text is held back only while its tail could still start the stop string.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include "engine/engine.h"
#include "tests/unit/engine/engine_test_support.h"
#include "text/tokenizer.h"

namespace sieve::engine {
namespace {

using test_support::Choice;
using test_support::Collector;
using test_support::Greedy;
using test_support::Prompt;
using test_support::SmallOptions;
using test_support::TinyModel;

class EngineStopString : public ::testing::Test {
 protected:
  void SetUp() override {
    model_ = TinyModel();
    if (!model_) GTEST_SKIP() << "../shared/fixtures/tiny-dsv32-a not present; stop-string tests skipped";
    auto tok = text::Tokenizer::Load(std::string(SIEVE_SOURCE_DIR) + "/assets/tokenizer/tokenizer.json");
    ASSERT_TRUE(tok.ok()) << tok.status().ToString();
    tokenizer_ = std::move(tok).value();
    auto e = Engine::Create(model_, tokenizer_, SmallOptions(*model_, 4096));
    ASSERT_TRUE(e.ok()) << e.status().ToString();
    engine_ = std::move(e).value();
  }
  Choice Run(GenerationRequest r) {
    Collector c;
    const std::string id = r.request_id;
    EXPECT_TRUE(engine_->Submit(std::move(r), c.Callback()).ok());
    EXPECT_TRUE(c.WaitFinished(1));
    return c.Get(id);
  }

  std::shared_ptr<model::Model> model_;
  std::shared_ptr<const text::Tokenizer> tokenizer_;
  std::unique_ptr<Engine> engine_;
};

// Longest tail of `text` that is a proper prefix of `stop`.
size_t PartialMatch(const std::string& text, const std::string& stop) {
  for (size_t k = std::min(stop.size() - 1, text.size()); k > 0; --k)
    if (text.compare(text.size() - k, k, stop, 0, k) == 0) return k;
  return 0;
}

TEST_F(EngineStopString, StopStringAcrossTokensIsCutExactlyAndHeldBackMinimally) {
  const Choice free_run = Run(Greedy("free", Prompt(10, 6), 24));
  ASSERT_EQ(free_run.deltas.size(), 24u);
  EXPECT_EQ(free_run.text, tokenizer_->Decode(free_run.tokens, true));

  // A two-byte stop string made of the last byte of one token's text and the first of the next one's.
  std::string stop;
  for (size_t k = 4; k + 1 < free_run.deltas.size() && stop.empty(); ++k) {
    const std::string &a = free_run.deltas[k], &b = free_run.deltas[k + 1];
    if (!a.empty() && !b.empty() && static_cast<unsigned char>(a.back()) < 0x80 &&
        static_cast<unsigned char>(b.front()) < 0x80)
      stop = std::string(1, a.back()) + b.front();
  }
  ASSERT_FALSE(stop.empty()) << "no ASCII token boundary in: " << free_run.text;
  const size_t cut = free_run.text.find(stop);
  ASSERT_NE(cut, std::string::npos);

  GenerationRequest r = Greedy("stopped", Prompt(10, 6), 24);
  r.params.stop = {stop};
  const Choice stopped = Run(r);
  EXPECT_EQ(stopped.finish_reason, "stop");
  EXPECT_EQ(stopped.stop_reason, stop);
  EXPECT_EQ(stopped.text, free_run.text.substr(0, cut));
  // Streaming: after each token the released text is everything but the tail that could still begin
  // the stop string.
  std::string released, seen;
  for (size_t j = 0; j + 1 < stopped.deltas.size(); ++j) {
    released += stopped.deltas[j];
    seen += free_run.deltas[j];
    EXPECT_EQ(released, seen.substr(0, seen.size() - PartialMatch(seen, stop))) << "after token " << j;
  }

  r.request_id = "kept";
  r.params.include_stop_str_in_output = true;
  EXPECT_EQ(Run(r).text, free_run.text.substr(0, cut + stop.size()));
}

TEST_F(EngineStopString, StopTokenIdEndsWithoutItsText) {
  const Choice free_run = Run(Greedy("free", Prompt(9, 2), 12));
  GenerationRequest r = Greedy("stopped", Prompt(9, 2), 12);
  r.params.stop_token_ids = {free_run.tokens[5]};
  const Choice stopped = Run(r);
  EXPECT_EQ(stopped.finish_reason, "stop");
  EXPECT_EQ(stopped.stop_reason, std::to_string(free_run.tokens[5]));
  const size_t first = std::find(free_run.tokens.begin(), free_run.tokens.end(), free_run.tokens[5]) -
                       free_run.tokens.begin();
  EXPECT_EQ(stopped.tokens.size(), first + 1);
  std::string before;
  for (size_t j = 0; j < first; ++j) before += free_run.deltas[j];
  EXPECT_EQ(stopped.text, before);
}

}  // namespace
}  // namespace sieve::engine
