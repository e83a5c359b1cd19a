// The pre-tokenizer of tokenizer.json: a sequence of regex `Split` steps (behavior "Isolated") that cut
// text into pieces before BPE. Each regex is compiled once with PCRE2 (UTF + Unicode properties) and
// JIT; every step is applied to every piece the previous step produced, and a regex sees one piece as
// its whole subject, so a lookahead like `\s+(?!\S)` stops at the piece's end (huggingface/tokenizers
// pre_tokenizers/split.rs semantics).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace sieve::text {

class PreTokenizer {
 public:
  // `patterns` are the Split regexes in order, as stored in tokenizer.json.
  static StatusOr<std::unique_ptr<PreTokenizer>> Create(const std::vector<std::string>& patterns);
  ~PreTokenizer();

  // Cuts valid UTF-8 `text` into pieces (views into `text`, in order, covering it exactly).
  std::vector<std::string_view> Split(std::string_view text) const;

 private:
  struct CompiledRegex;
  PreTokenizer() = default;
  std::vector<std::unique_ptr<CompiledRegex>> steps_;
};

}  // namespace sieve::text
