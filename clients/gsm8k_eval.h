// `sieve eval gsm8k`: lm-eval's gsm8k task against an OpenAI-compatible endpoint. Builds each test doc's
// prompt, sends the requests (num_concurrent at a time, 3 attempts each as lm-eval's tenacity policy),
// and scores every completion with both filters.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "clients/gsm8k_dataset.h"
#include "clients/gsm8k_request.h"
#include "clients/lm_eval_report.h"
#include "core/status.h"

namespace sieve::clients {

struct Gsm8kEvalOptions {
  std::string base_url;            // server root, ".../v1", or the full ".../completions" URL
  Gsm8kGeneration generation;
  size_t num_fewshot = 5;
  std::optional<size_t> limit;     // first N test docs (they get the same shots as in a full run)
  int num_concurrent = 1;
  bool chat = false;               // local-chat-completions with fewshot_as_multiturn
  double timeout_s = 300;          // lm-eval's default request timeout
  int max_attempts = 3;            // lm-eval's max_retries (attempts in total)
};

struct Gsm8kDocResult {
  std::string completion;
  std::string strict_answer, flexible_answer;
  double strict_score = 0, flexible_score = 0;
  std::string error;  // non-empty when every attempt failed (scored as an empty completion)
};

struct Gsm8kEvalResult {
  std::string endpoint_url;
  std::vector<Gsm8kDocResult> docs;
  std::vector<FilterScore> scores;  // flexible-extract, strict-match (make_table order)
  size_t failed_requests = 0;
};

// The URL lm-eval would POST to for `base_url` (nothing is appended to a ".../completions" URL).
StatusOr<std::string> Gsm8kEndpointUrl(const std::string& base_url, bool chat);

// `on_done(finished, total)` is called after each doc, for a progress display.
StatusOr<Gsm8kEvalResult> RunGsm8kEval(const Gsm8kEvalOptions& options, const std::vector<Gsm8kDoc>& test,
                                       const std::vector<Gsm8kDoc>& train,
                                       const std::function<void(size_t, size_t)>& on_done = nullptr);

// Scores one completion against a gold answer with both filters (the per-doc part of RunGsm8kEval).
Gsm8kDocResult ScoreGsm8kCompletion(std::string completion, const std::string& gold);

}  // namespace sieve::clients
