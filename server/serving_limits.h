// What request parsing needs to know about the model being served.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace sieve::text {
class Tokenizer;
}

namespace sieve::server {

struct ServingLimits {
  std::vector<std::string> served_model_names;  // the first is reported by /v1/models
  const text::Tokenizer* tokenizer = nullptr;   // null: token-id prompts only
  int64_t max_model_len = 0;
  int64_t vocab_size = 0;
  int32_t bos_token_id = 0;
  int32_t eos_token_id = 0;
};

}  // namespace sieve::server
