// lm-eval's aggregation (mean, mean_stderr) and its Markdown result table, byte for byte.
#include "clients/lm_eval_report.h"

#include <gtest/gtest.h>

namespace sieve::clients {
namespace {

TEST(LmEvalReport, StderrIsSampleStdOverSqrtN) {
  const FilterScore s = MeanWithStderr("strict-match", "exact_match", {1, 0, 1, 1});
  EXPECT_DOUBLE_EQ(s.value, 0.75);
  ASSERT_TRUE(s.stderr_value.has_value());
  EXPECT_DOUBLE_EQ(*s.stderr_value, 0.25);  // sqrt(0.75/3) / sqrt(4) = 0.5 / 2
  EXPECT_FALSE(MeanWithStderr("f", "m", {1}).stderr_value.has_value());  // n < 2 gives "N/A"
}

TEST(LmEvalReport, TableLayoutMatchesMakeTable) {
  const std::vector<FilterScore> scores = {{"flexible-extract", "exact_match", 0.7544, 0.0119},
                                           {"strict-match", "exact_match", 0.7491, 0.0119}};
  const std::string want =
      "|Tasks|Version|     Filter     |n-shot|  Metric   |   |Value |   |Stderr|\n"
      "|-----|------:|----------------|-----:|-----------|---|-----:|---|-----:|\n"
      "|gsm8k|      3|flexible-extract|     5|exact_match|↑  |0.7544|±  |0.0119|\n"
      "|     |       |strict-match    |     5|exact_match|↑  |0.7491|±  |0.0119|\n";
  EXPECT_EQ(FormatLmEvalTable("gsm8k", "3", 5, scores), want);
  EXPECT_NE(FormatLmEvalTable("gsm8k", "3", 8, scores), want);  // negative control: n-shot is printed
}

TEST(LmEvalReport, MissingStderrPrintsNA) {
  const std::string table = FormatLmEvalTable("gsm8k", "3", 5, {{"strict-match", "exact_match", 1.0, std::nullopt}});
  EXPECT_NE(table.find("|1.0000|±  |   N/A|"), std::string::npos) << table;
}

}  // namespace
}  // namespace sieve::clients
