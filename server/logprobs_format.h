// Logprobs in the two OpenAI shapes: the legacy completions object (parallel lists `tokens`,
// `token_logprobs`, `top_logprobs` as {token: logprob} maps, `text_offset`; lm-eval reads it) and the chat
// `logprobs.content` list of {token, logprob, bytes, top_logprobs}. Token strings are each id decoded on its
// own, as vLLM reports them.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "engine/engine.h"
#include "server/json_fields.h"
#include "text/tokenizer.h"

namespace sieve::server {

// The legacy completions logprobs object being built for one choice.
class CompletionLogprobs {
 public:
  explicit CompletionLogprobs(const text::Tokenizer& tokenizer);
  // Prompt tokens for echo: `logprobs[i]` describes prompt_ids[i]; nullopt (the first token) gives nulls.
  void AppendPrompt(const std::vector<int32_t>& prompt_ids,
                    const std::vector<std::optional<engine::TokenLogprob>>& logprobs);
  void AppendGenerated(const std::vector<engine::TokenLogprob>& logprobs);
  // The object so far, and a fresh start for the next stream chunk (text_offset keeps counting).
  Json Take();

 private:
  void Append(int32_t token_id, const engine::TokenLogprob* logprob);

  const text::Tokenizer& tokenizer_;
  Json tokens_ = Json::array();
  Json token_logprobs_ = Json::array();
  Json top_logprobs_ = Json::array();
  Json text_offset_ = Json::array();
  int64_t offset_ = 0;
};

// Chat `logprobs.content` entries of `logprobs`.
Json ChatLogprobsContent(const text::Tokenizer& tokenizer, const std::vector<engine::TokenLogprob>& logprobs);

}  // namespace sieve::server
