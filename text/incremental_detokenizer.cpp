// Incremental detokenizer. Byte-level BPE decodes by plain concatenation of bytes, and lossy UTF-8
// decoding restarts cleanly at every character boundary, so cutting the byte stream just before an
// unfinished character gives exactly the same text as decoding everything at once.
#include "text/incremental_detokenizer.h"

#include "text/tokenizer.h"
#include "text/utf8.h"

namespace sieve::text {

IncrementalDetokenizer::IncrementalDetokenizer(const Tokenizer& tokenizer, bool skip_special_tokens)
    : tokenizer_(tokenizer), skip_special_tokens_(skip_special_tokens) {}

std::string IncrementalDetokenizer::Push(int32_t id) {
  if (skip_special_tokens_ && tokenizer_.IsSpecial(id)) return {};
  pending_.append(tokenizer_.IdBytes(id));
  const size_t complete = Utf8CompletePrefixLength(pending_);
  std::string out = Utf8Lossy(std::string_view(pending_).substr(0, complete));
  pending_.erase(0, complete);
  return out;
}

std::string IncrementalDetokenizer::Flush() {
  std::string out = Utf8Lossy(pending_);
  pending_.clear();
  return out;
}

}  // namespace sieve::text
