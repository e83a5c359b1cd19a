// What `sieve bench serve` needs from a tokenizer to build the random dataset (bench-serve.md §2):
// encode without special tokens, decode, the id range to draw from and the ids it must not draw.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"

namespace sieve::text {
class Tokenizer;
}

namespace sieve::clients {

class PromptTokenizer {
 public:
  virtual ~PromptTokenizer() = default;
  // tokenizer(text, add_special_tokens=False).input_ids
  virtual std::vector<int32_t> Encode(const std::string& text) const = 0;
  // tokenizer.decode(ids) (special tokens kept)
  virtual std::string Decode(const std::vector<int32_t>& ids) const = 0;
  // Ids are drawn from [0, vocab_size).
  virtual int64_t vocab_size() const = 0;
  virtual bool IsSpecial(int32_t id) const = 0;
  // Tokens the tokenizer adds itself when encoding with special tokens (BOS): num_special_tokens_to_add().
  virtual int num_special_tokens_to_add() const = 0;
};

// The text layer's tokenizer from DIR/tokenizer.json, with add_bos_token/add_eos_token from
// DIR/tokenizer_config.json (both default to false when the file or key is absent).
StatusOr<std::unique_ptr<PromptTokenizer>> LoadPromptTokenizer(const std::string& dir);

}  // namespace sieve::clients
