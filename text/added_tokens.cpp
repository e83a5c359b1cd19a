// Leftmost-longest literal matching of added tokens with a byte trie. There are ~800 tokens, all
// starting with '<', so a first-byte filter makes the scan nearly free on ordinary text.
#include "text/added_tokens.h"

#include <algorithm>

namespace sieve::text {

int32_t AddedTokenMatcher::Child(int32_t node, unsigned char b) const {
  const auto& ch = nodes_[node].children;
  const auto it = std::lower_bound(ch.begin(), ch.end(), std::make_pair(b, int32_t{-1}));
  return it != ch.end() && it->first == b ? it->second : -1;
}

void AddedTokenMatcher::Add(std::string_view content, int32_t id) {
  if (content.empty()) return;
  first_byte_[static_cast<unsigned char>(content[0])] = true;
  int32_t node = 0;
  for (char c : content) {
    const auto b = static_cast<unsigned char>(c);
    int32_t child = Child(node, b);
    if (child < 0) {
      child = static_cast<int32_t>(nodes_.size());
      nodes_.emplace_back();
      auto& ch = nodes_[node].children;
      ch.insert(std::lower_bound(ch.begin(), ch.end(), std::make_pair(b, int32_t{-1})), {b, child});
    }
    node = child;
  }
  nodes_[node].id = id;
}

std::pair<size_t, int32_t> AddedTokenMatcher::LongestMatch(std::string_view text) const {
  std::pair<size_t, int32_t> best{0, -1};
  int32_t node = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    node = Child(node, static_cast<unsigned char>(text[i]));
    if (node < 0) break;
    if (nodes_[node].id >= 0) best = {i + 1, nodes_[node].id};
  }
  return best;
}

std::vector<TextSegment> AddedTokenMatcher::Split(const std::vector<TextSegment>& segments) const {
  std::vector<TextSegment> out;
  for (const TextSegment& seg : segments) {
    if (seg.id >= 0) {
      out.push_back(seg);
      continue;
    }
    const std::string_view s = seg.text;
    size_t start = 0;  // start of the pending ordinary text
    for (size_t i = 0; i < s.size();) {
      if (!first_byte_[static_cast<unsigned char>(s[i])]) {
        ++i;
        continue;
      }
      const auto [len, id] = LongestMatch(s.substr(i));
      if (len == 0) {
        ++i;
        continue;
      }
      if (i > start) out.push_back({s.substr(start, i - start), -1});
      out.push_back({s.substr(i, len), id});
      i += len;
      start = i;
    }
    if (start < s.size()) out.push_back({s.substr(start), -1});
  }
  return out;
}

}  // namespace sieve::text
