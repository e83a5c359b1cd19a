// Logprobs in the two OpenAI shapes. Completions (legacy): {"tokens", "token_logprobs", "top_logprobs"
// (a {token: logprob} map per position), "text_offset"}; with echo the prompt comes first and its first
// token has null entries, as vLLM returns them (lm-eval's loglikelihood reads this). Chat: {"content":
// [{"token", "logprob", "bytes", "top_logprobs": [{"token", "logprob", "bytes"}]}]}.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <vector>

#include "engine/engine.h"

namespace sieve::text {
class Tokenizer;
}

namespace sieve::server {

// Accumulates one choice's completions logprobs across stream updates.
class CompletionLogprobs {
 public:
  explicit CompletionLogprobs(const text::Tokenizer* tokenizer, int64_t text_offset = 0)
      : tokenizer_(tokenizer), offset_(text_offset) {}
  void AddPrompt(const std::vector<int32_t>& prompt_ids, const std::vector<std::optional<engine::TokenLogprob>>& logprobs);
  void AddGenerated(const std::vector<engine::TokenLogprob>& logprobs);
  // The object for what was added since the last call (streaming) or overall (when called once).
  nlohmann::ordered_json Take();

 private:
  void Add(int32_t token, const std::optional<engine::TokenLogprob>& lp);

  const text::Tokenizer* tokenizer_;
  int64_t offset_;
  nlohmann::ordered_json tokens_ = nlohmann::ordered_json::array();
  nlohmann::ordered_json token_logprobs_ = nlohmann::ordered_json::array();
  nlohmann::ordered_json top_logprobs_ = nlohmann::ordered_json::array();
  nlohmann::ordered_json text_offset_ = nlohmann::ordered_json::array();
};

// Chat `logprobs.content` entries for `logprobs` (one per generated token).
nlohmann::ordered_json ChatLogprobContent(const text::Tokenizer* tokenizer, const std::vector<engine::TokenLogprob>& logprobs);

}  // namespace sieve::server
