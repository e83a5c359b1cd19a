// lm-eval's GSM8K filters and exact_match against every scoring vector, and the Python `re` iteration
// rules of PythonRegex they rely on.
#include "clients/gsm8k_scoring.h"

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "clients/python_regex.h"
#include "tests/test_support.h"

namespace sieve::clients {
namespace {

TEST(Gsm8kScoring, AgreesWithEveryScoringVector) {
  const auto fx = test::SharedFixture("gsm8k");
  if (!fx) GTEST_SKIP() << "../shared/fixtures/gsm8k not present; scoring vectors skipped";
  std::ifstream in(*fx + "/scoring_vectors.jsonl");
  int n = 0, strict_ones = 0, flexible_ones = 0;
  for (std::string line; std::getline(in, line); ++n) {
    const auto v = nlohmann::json::parse(line);
    const std::string completion = v["completion"], gold = v["gold"];
    SCOPED_TRACE(v["note"].get<std::string>());
    EXPECT_EQ(StrictMatch(completion), v["strict_extracted"].get<std::string>());
    EXPECT_EQ(FlexibleExtract(completion), v["flexible_extracted"].get<std::string>());
    EXPECT_EQ(ExactMatch(StrictMatch(completion), gold), v["strict"].get<double>());
    EXPECT_EQ(ExactMatch(FlexibleExtract(completion), gold), v["flexible"].get<double>());
    strict_ones += v["strict"].get<int>();
    flexible_ones += v["flexible"].get<int>();
  }
  EXPECT_EQ(n, 40);
  // The vectors hold both outcomes for both filters, so a scorer that always says 0 or 1 fails above.
  EXPECT_GT(strict_ones, 0);
  EXPECT_LT(strict_ones, n);
  EXPECT_GT(flexible_ones, 0);
  EXPECT_LT(flexible_ones, n);
}

TEST(Gsm8kScoring, GoldReducesToItsFinalNumber) {
  EXPECT_EQ(ExactMatch("1450000", "so <<a=b>>\n#### 1,450,000"), 1.0);
  EXPECT_EQ(ExactMatch("1450001", "so <<a=b>>\n#### 1,450,000"), 0.0);
  EXPECT_EQ(ExactMatch(kInvalidAnswer, "#### 5"), 0.0);
}

TEST(PythonRegex, EmptyMatchesFollowPython37Rules) {
  auto re = PythonRegex::Compile("x*");
  ASSERT_TRUE(re.ok());
  EXPECT_EQ(re->ReplaceAll("abxd", "-"), "-a-b--d-");  // re.sub('x*', '-', 'abxd')
  EXPECT_EQ(re->FindAll("abxd").size(), 5u);
}

TEST(PythonRegex, DollarMatchesBeforeAFinalNewlineOnly) {
  auto re = PythonRegex::Compile(R"(\.$)");
  ASSERT_TRUE(re.ok());
  EXPECT_EQ(re->ReplaceAll("18.\n", ""), "18\n");
  EXPECT_EQ(re->ReplaceAll("18.\n\n", ""), "18.\n\n");
  EXPECT_EQ(re->ReplaceAll("1.2.", ""), "1.2");
}

TEST(PythonRegex, FindAllReturnsGroupsWithUnsetAsEmpty) {
  auto re = PythonRegex::Compile(R"((-?[$0-9.,]{2,})|(-?[0-9]+))");
  ASSERT_TRUE(re.ok());
  const auto m = re->FindAll("a 5 and 12");
  ASSERT_EQ(m.size(), 2u);
  EXPECT_EQ(m[0], (std::vector<std::string>{"", "5"}));
  EXPECT_EQ(m[1], (std::vector<std::string>{"12", ""}));
}

TEST(PythonRegex, BadPatternIsAStatus) {
  auto re = PythonRegex::Compile("(unclosed");
  ASSERT_FALSE(re.ok());
  EXPECT_EQ(re.status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace sieve::clients
