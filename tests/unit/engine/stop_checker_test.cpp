// StopChecker: token stop rules and stop strings found across token boundaries, cut exactly, with the
// text held back only while a partial match is possible.
#include "engine/stop_checker.h"

#include <gtest/gtest.h>

namespace sieve::engine {
namespace {

constexpr int32_t kEos = 1;

// Feeds text pieces (one per token) and returns the released deltas.
struct Feed {
  std::vector<std::string> deltas;
  std::optional<FinishReason> finish;
  int pieces_used = 0;
};
Feed FeedPieces(StopChecker& checker, const std::vector<std::string>& pieces) {
  Feed f;
  for (const std::string& p : pieces) {
    ++f.pieces_used;
    f.deltas.push_back(checker.AppendText(p, f.pieces_used, &f.finish));
    if (f.finish) break;
  }
  return f;
}
std::string Join(const std::vector<std::string>& v) {
  std::string s;
  for (auto& x : v) s += x;
  return s;
}

TEST(StopChecker, StopStringAcrossTokensIsCutExactly) {
  SamplingParams p;
  p.stop = {"END"};
  StopChecker checker(p, kEos, 1000);
  Feed f = FeedPieces(checker, {"Hello E", "N", "D tail"});
  ASSERT_TRUE(f.finish);
  EXPECT_EQ(f.finish->reason, "stop");
  EXPECT_EQ(f.finish->stop_reason, "END");
  EXPECT_EQ(f.deltas, (std::vector<std::string>{"Hello ", "", ""}));  // "E", "EN" held back, then cut
}

TEST(StopChecker, HoldsBackOnlyAPossibleStopPrefix) {
  SamplingParams p;
  p.stop = {"###"};
  StopChecker checker(p, kEos, 1000);
  Feed f = FeedPieces(checker, {"a#", "#b", "c"});
  EXPECT_FALSE(f.finish);
  // "a#": "#" could start "###"; "a##b": no tail is a prefix any more, so everything goes out.
  EXPECT_EQ(f.deltas, (std::vector<std::string>{"a", "##b", "c"}));
}

TEST(StopChecker, IncludeStopStringKeepsIt) {
  SamplingParams p;
  p.stop = {"\n\n"};
  p.include_stop_str_in_output = true;
  StopChecker checker(p, kEos, 1000);
  Feed f = FeedPieces(checker, {"x\n", "\ny"});
  ASSERT_TRUE(f.finish);
  EXPECT_EQ(Join(f.deltas), "x\n\n");
}

TEST(StopChecker, EarliestOfSeveralStopStringsWins) {
  SamplingParams p;
  p.stop = {"zz", "b"};
  StopChecker checker(p, kEos, 1000);
  Feed f = FeedPieces(checker, {"abzz"});
  ASSERT_TRUE(f.finish);
  EXPECT_EQ(f.finish->stop_reason, "b");
  EXPECT_EQ(Join(f.deltas), "a");
}

TEST(StopChecker, NoStopStringsReleasesEverything) {
  SamplingParams p;
  StopChecker checker(p, kEos, 1000);
  Feed f = FeedPieces(checker, {"E", "N", "D"});
  EXPECT_FALSE(f.finish);
  EXPECT_EQ(f.deltas, (std::vector<std::string>{"E", "N", "D"}));
}

TEST(StopChecker, FlushReleasesHeldText) {
  SamplingParams p;
  p.stop = {"STOP"};
  StopChecker checker(p, kEos, 1000);
  std::optional<FinishReason> finish;
  EXPECT_EQ(checker.AppendText("go ST", 1, &finish), "go ");
  EXPECT_EQ(checker.Flush(), "ST");
}

TEST(StopChecker, MinTokensDelaysEosAndStopIds) {
  SamplingParams p;
  p.min_tokens = 3;
  p.stop_token_ids = {42};
  StopChecker checker(p, kEos, 1000);
  EXPECT_FALSE(checker.CheckToken(kEos, 2, 10));
  EXPECT_FALSE(checker.CheckToken(42, 2, 10));
  auto eos = checker.CheckToken(kEos, 3, 10);
  ASSERT_TRUE(eos);
  EXPECT_EQ(eos->reason, "stop");
  EXPECT_FALSE(eos->stop_reason);
  auto id = checker.CheckToken(42, 3, 10);
  ASSERT_TRUE(id);
  EXPECT_EQ(id->stop_reason, "42");
}

TEST(StopChecker, IgnoreEosAndLengthLimits) {
  SamplingParams p;
  p.ignore_eos = true;
  p.max_tokens = 5;
  StopChecker checker(p, kEos, 20);
  EXPECT_FALSE(checker.CheckToken(kEos, 1, 10));
  EXPECT_EQ(checker.CheckToken(7, 5, 10)->reason, "length");
  EXPECT_EQ(checker.CheckToken(7, 2, 20)->reason, "length");  // max_model_len
  EXPECT_FALSE(checker.CheckToken(7, 2, 19));
}

}  // namespace
}  // namespace sieve::engine
