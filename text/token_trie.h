// TokenTrie: the vocabulary's byte strings in a trie, built once per tokenizer, and the per-step token
// mask of structured outputs: which tokens keep a JsonRecognizer's document valid. Walking the trie
// with the recognizer visits each shared prefix once and abandons a whole subtree at its first bad
// byte (the outlines-core / xgrammar idea; written here from scratch).
#pragma once

#include <cstdint>
#include <span>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "text/json_recognizer.h"

namespace sieve::text {

class Tokenizer;

class TokenTrie {
 public:
  // `token_bytes[id]` is the byte string of token id; empty strings never match (holes, excluded ids).
  explicit TokenTrie(const std::vector<std::string>& token_bytes);
  ~TokenTrie();
  TokenTrie(TokenTrie&&) noexcept;
  // Every non-special token of `tokenizer`: special tokens (EOS, BOS, ...) are never JSON text.
  static TokenTrie FromTokenizer(const Tokenizer& tokenizer);

  int64_t num_tokens() const { return num_tokens_; }

 private:
  friend class TokenMasker;
  struct Node {
    int32_t first_child = 0;   // children are nodes_[first_child, first_child + num_children)
    int32_t num_children = 0;
    int32_t first_token = 0;   // ids ending here are token_ids_[first_token, first_token + num_tokens)
    int32_t num_tokens = 0;
    uint8_t byte = 0;          // the edge from the parent
  };
  // Builds the children of `parent` from `ids`[lo, hi), all sharing their first `depth` bytes.
  void Build(int32_t parent, const std::vector<int32_t>& ids, size_t lo, size_t hi, size_t depth,
             const std::vector<std::string>& bytes);

  // Only the trie, for the sub-trie of tokens that are not plain string content.
  TokenTrie(const std::vector<std::string>& token_bytes, bool index_plain_strings);

  std::vector<Node> nodes_;  // nodes_[0] is the root (empty prefix)
  // Inside a string, tokens of plain string content are all allowed (one bitset copy) and only the
  // others need the walk: most of a 129k vocabulary is plain text, so this is the expensive case made cheap.
  std::vector<uint64_t> plain_string_tokens_;   // bit per token id
  std::unique_ptr<TokenTrie> non_plain_;        // the trie of the other tokens
  std::vector<int32_t> token_ids_;
  int64_t num_tokens_ = 0;
  size_t max_depth_ = 0;
};

// Computes masks; holds one recognizer per trie depth, so a walk allocates nothing once warm.
// Not thread-safe: one per engine thread.
class TokenMasker {
 public:
  explicit TokenMasker(const TokenTrie& trie) : trie_(trie) {}

  // Sets bit t of `allowed` ([ceil(mask_size / 64)] words, cleared first) for each token t after
  // which `state` is still a valid prefix. End-of-sequence tokens are the caller's business.
  void Compute(const JsonRecognizer& state, std::span<uint64_t> allowed);

 private:
  void Walk(const TokenTrie& trie, int32_t node, size_t depth, std::span<uint64_t> allowed);

  const TokenTrie& trie_;
  std::vector<JsonRecognizer> states_;  // [depth]: the state after the prefix of that length
};

}  // namespace sieve::text
