// Streaming detokenization: turns ids into text one at a time for SSE deltas. Bytes of a character
// that is not finished yet are held back, so a delta never ends in a broken character, and the
// concatenation of all deltas plus Flush() equals Tokenizer::Decode of all ids.
#pragma once

#include <cstdint>
#include <string>

namespace sieve::text {

class Tokenizer;

class IncrementalDetokenizer {
 public:
  // `tokenizer` must outlive this object.
  IncrementalDetokenizer(const Tokenizer& tokenizer, bool skip_special_tokens);

  // Returns the text that became complete with `id` (possibly empty).
  std::string Push(int32_t id);
  // Returns what is still held back (a cut-off character becomes U+FFFD, as Decode does).
  std::string Flush();

 private:
  const Tokenizer& tokenizer_;
  bool skip_special_tokens_;
  std::string pending_;  // bytes of an unfinished character, at most 3
};

}  // namespace sieve::text
