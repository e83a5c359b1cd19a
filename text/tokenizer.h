// The DeepSeek-V3.x tokenizer: byte-level BPE read from a Hugging Face tokenizer.json. Encoding cuts out
// added tokens first, then pre-tokenizes with the file's Split regexes and runs BPE on each piece;
// decoding maps byte-level tokens back to bytes and repairs invalid UTF-8 with U+FFFD.
// Used by the engine (prompt ids, detokenization) and the server's /tokenize endpoint.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/status.h"

namespace sieve::text {

class AddedTokenMatcher;
class BpeModel;
class PreTokenizer;

class Tokenizer {
 public:
  // Reads tokenizer.json; InvalidArgument/NotFound when the file is missing, malformed or uses a
  // normalizer, pre-tokenizer or model this implementation does not support.
  static StatusOr<std::unique_ptr<Tokenizer>> Load(const std::string& tokenizer_json_path);
  // Loads DIR/tokenizer.json; NotFound with a hint when the folder has no tokenizer files (checkpoints
  // converted without them), as vLLM fails rather than guessing another tokenizer.
  static StatusOr<std::unique_ptr<Tokenizer>> LoadFromDir(const std::string& dir);
  ~Tokenizer();

  // Ids of `text` without BOS (add_special_tokens=false). Invalid UTF-8 is first repaired with U+FFFD.
  std::vector<int32_t> Encode(std::string_view text) const;
  // Text of `ids`; ids with no token (the model's padded vocabulary rows) decode as nothing.
  std::string Decode(const std::vector<int32_t>& ids, bool skip_special_tokens) const;
  // The raw bytes one id stands for (empty for an unknown id): a building block for streaming decode.
  std::string_view IdBytes(int32_t id) const;

  std::optional<int32_t> TokenToId(std::string_view token) const;
  // The token string (byte-level form for BPE tokens, literal content for added tokens), or "".
  std::string IdToToken(int32_t id) const;
  // Number of ids the tokenizer knows (max id + 1); the model's vocab_size may be larger.
  int64_t vocab_size() const { return static_cast<int64_t>(tokens_.size()); }
  // True for added tokens marked `special` (removed by skip_special_tokens).
  bool IsSpecial(int32_t id) const;

 private:
  Tokenizer();
  static StatusOr<std::unique_ptr<Tokenizer>> LoadFile(const std::string& tokenizer_json_path);

  std::vector<std::string> tokens_;      // id -> token string ("" for holes)
  std::vector<std::string> id_bytes_;    // id -> decoded bytes
  std::vector<bool> special_;            // id -> special added token
  std::unordered_map<std::string, int32_t> token_ids_;
  std::unique_ptr<AddedTokenMatcher> raw_added_;         // added tokens with normalized=false
  std::unique_ptr<AddedTokenMatcher> normalized_added_;  // added tokens with normalized=true
  std::unique_ptr<PreTokenizer> pre_tokenizer_;
  std::unique_ptr<BpeModel> bpe_;
};

}  // namespace sieve::text
