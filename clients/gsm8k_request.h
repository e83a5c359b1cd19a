// The HTTP bodies lm-eval sends for gsm8k and how it reads the answers (docs/openai-clients.md §1-2):
// `local-completions` {"prompt","model","max_tokens","temperature","stop","seed"} reading choices[].text,
// `local-chat-completions` {"messages",...} reading choices[].message.content.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "clients/gsm8k_prompt.h"
#include "core/status.h"

namespace sieve::clients {

struct Gsm8kGeneration {
  std::string model;
  int max_tokens = 256;              // TemplateAPI max_gen_toks default; the task sets none
  double temperature = 0.0;          // generation_kwargs.temperature
  std::vector<std::string> stop = {"Question:", "</s>", "<|im_end|>"};  // generation_kwargs.until
  uint32_t seed = kLmEvalFewshotSeed;  // TemplateAPI seed default (1234)
};

nlohmann::json CompletionsBody(const std::string& prompt, const Gsm8kGeneration& gen);
// Chat sends only the first 4 stop strings (LocalChatCompletion._create_payload).
nlohmann::json ChatBody(const std::vector<ChatMessage>& messages, const Gsm8kGeneration& gen);

// The generated text of choice 0; a null or missing text/content is "" as in lm-eval.
StatusOr<std::string> ParseGeneratedText(const std::string& response_body, bool chat);

}  // namespace sieve::clients
