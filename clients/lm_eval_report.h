// lm-eval's result numbers and table for one generate_until task: the mean of a 0/1 metric per filter,
// its standard error (lm_eval/api/metrics.py mean_stderr: sample std / sqrt(n), "N/A" when n < 2), and
// the Markdown table make_table prints (lm_eval/utils.py, pytablewriter layout).
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace sieve::clients {

struct FilterScore {
  std::string filter;            // "flexible-extract"
  std::string metric;            // "exact_match"
  double value = 0.0;            // mean over docs
  std::optional<double> stderr_value;  // nullopt prints "N/A"
};

FilterScore MeanWithStderr(std::string filter, std::string metric, const std::vector<double>& scores);

// |Tasks|Version|     Filter     |n-shot|  Metric   |   |Value |   |Stderr| with one row per score, in the
// order given (make_table sorts "metric,filter" keys, so flexible-extract comes before strict-match).
std::string FormatLmEvalTable(const std::string& task, const std::string& version, int num_fewshot,
                              const std::vector<FilterScore>& scores);

}  // namespace sieve::clients
