// Added tokens (tokenizer.json `added_tokens`): literal strings such as `<｜User｜>` or `<think>` that
// are cut out of the input before pre-tokenization and become their id directly, leftmost-longest
// (huggingface/tokenizers added_vocabulary.rs, which uses Aho-Corasick with LeftmostLongest).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace sieve::text {

// One span of the input: either an added token (`id` >= 0) or ordinary text (`id` == -1).
struct TextSegment {
  std::string_view text;
  int32_t id = -1;
};

class AddedTokenMatcher {
 public:
  void Add(std::string_view content, int32_t id);

  // Cuts each ordinary-text segment of `segments` at the leftmost-longest matches of the tokens added.
  std::vector<TextSegment> Split(const std::vector<TextSegment>& segments) const;

 private:
  // A byte trie; node 0 is the root.
  struct Node {
    std::vector<std::pair<unsigned char, int32_t>> children;  // sorted by byte
    int32_t id = -1;                                          // token ending here
  };
  int32_t Child(int32_t node, unsigned char b) const;
  // Length and id of the longest token starting at text[0], or {0, -1}.
  std::pair<size_t, int32_t> LongestMatch(std::string_view text) const;

  std::vector<Node> nodes_{1};
  bool first_byte_[256] = {};
};

}  // namespace sieve::text
