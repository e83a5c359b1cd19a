// The GPT-2 "byte-level" alphabet used by tokenizer.json's ByteLevel pre-tokenizer and decoder: every
// byte 0-255 is written as one printable code point (space -> U+0120 'Ġ', '\n' -> U+010A 'Ċ').
// Reference: openai/gpt-2 src/encoder.py bytes_to_unicode; huggingface/tokenizers byte_level.rs.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace sieve::text {

// The code point that stands for byte `b`.
char32_t ByteToCodePoint(unsigned char b);

// Maps a byte-level token string back to raw bytes, or nullopt if some character is not in the
// alphabet (the decoder then uses the token's own UTF-8 bytes, as huggingface/tokenizers does).
std::optional<std::string> ByteLevelToBytes(std::string_view token);

}  // namespace sieve::text
