// StopChecker: decides when one choice ends (EOS, stop token ids, stop strings, max_tokens, max_model_len,
// all gated by min_tokens) and how much of its text may be streamed now. A stop string can span tokens,
// so the text is held back exactly as long as its tail could still be the start of a stop string; a
// found stop string is cut from the text (vLLM: vllm/v1/engine/detokenizer.py, check_stop_strings).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "engine/engine.h"

namespace sieve::engine {

struct FinishReason {
  std::string reason;                      // "stop" | "length"
  std::optional<std::string> stop_reason;  // the stop string, or a stop token id in decimal; none for EOS
};

class StopChecker {
 public:
  StopChecker(const SamplingParams& params, int32_t eos_token_id, int64_t max_model_len);

  // Token rules, after `token` was appended: `num_output_tokens` generated, `num_tokens` in all.
  std::optional<FinishReason> CheckToken(int32_t token, int64_t num_output_tokens, int64_t num_tokens) const;
  // Adds the new token's text; returns the text that can be released. When a stop string completes,
  // sets *finish and cuts the text there (keeping the stop string if include_stop_str_in_output).
  std::string AppendText(std::string_view text, int64_t num_output_tokens, std::optional<FinishReason>* finish);
  // Releases the text held back (the choice ended for another reason).
  std::string Flush();
  int32_t eos_token_id() const { return eos_token_id_; }

 private:
  // Length of the longest tail of pending_ that is a proper prefix of some stop string.
  size_t PartialMatchLength() const;

  const SamplingParams& params_;
  int32_t eos_token_id_;
  int64_t max_model_len_;
  std::string pending_;  // text not yet released
};

}  // namespace sieve::engine
