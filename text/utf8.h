// UTF-8 decoding with U+FFFD substitution, as the tokenizer's decoder and the streaming detokenizer need.
// Invalid input is replaced one "maximal subpart" at a time (Unicode 15 §3.9, Table 3-7), which is what
// Rust's String::from_utf8_lossy does and therefore what Hugging Face `tokenizers` returns.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace sieve::text {

// `bytes` with every maximal invalid subsequence replaced by U+FFFD (EF BF BD).
std::string Utf8Lossy(std::string_view bytes);

// True when `bytes` is well-formed UTF-8.
bool IsValidUtf8(std::string_view bytes);

// Length of the longest prefix of `bytes` that does not end inside an unfinished but still valid
// character: bytes.size() unless the input ends with the first 1-3 bytes of a well-formed character.
// A streaming decoder emits Utf8Lossy(bytes.substr(0, n)) and keeps the rest for the next token.
size_t Utf8CompletePrefixLength(std::string_view bytes);

// Appends the UTF-8 encoding of code point `cp` (assumed valid) to *out.
void AppendUtf8(char32_t cp, std::string* out);

}  // namespace sieve::text
