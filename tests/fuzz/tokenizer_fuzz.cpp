// libFuzzer target: any byte string encodes without a crash, valid UTF-8 round-trips through decode, and
// streaming detokenization of the ids equals the one-shot decode.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "text/incremental_detokenizer.h"
#include "text/tokenizer.h"
#include "text/utf8.h"

namespace {
const sieve::text::Tokenizer& Shared() {
  static const auto tokenizer = [] {
    auto t = sieve::text::Tokenizer::Load(std::string(SIEVE_SOURCE_DIR) + "/assets/tokenizer/tokenizer.json");
    if (!t.ok()) std::abort();
    return std::move(*t);
  }();
  return *tokenizer;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const sieve::text::Tokenizer& tok = Shared();
  const std::string text(reinterpret_cast<const char*>(data), size);
  const std::vector<int32_t> ids = tok.Encode(text);
  const std::string decoded = tok.Decode(ids, false);
  if (sieve::text::IsValidUtf8(text) && decoded != text) std::abort();
  sieve::text::IncrementalDetokenizer detok(tok, false);
  std::string streamed;
  for (int32_t id : ids) streamed += detok.Push(id);
  streamed += detok.Flush();
  if (streamed != decoded) std::abort();
  return 0;
}
