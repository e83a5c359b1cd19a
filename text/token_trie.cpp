// TokenTrie: built from the token byte strings sorted by bytes, so every node's children are
// contiguous and a depth-first walk reads the node array almost in order.
#include "text/token_trie.h"

#include <algorithm>
#include <numeric>

#include "text/tokenizer.h"

namespace sieve::text {

namespace {

// Bytes that may stand anywhere in a JSON string's content, as whole UTF-8 characters (RFC 8259
// section 7; the lead-byte ranges are those JsonRecognizer accepts).
bool IsPlainStringContent(const std::string& bytes) {
  if (bytes.empty()) return false;
  int continuation = 0;
  for (char ch : bytes) {
    const auto b = static_cast<uint8_t>(ch);
    if (continuation > 0) {
      if ((b & 0xC0) != 0x80) return false;
      --continuation;
    } else if (b == '"' || b == '\\' || b < 0x20) {
      return false;
    } else if (b >= 0xC2 && b <= 0xDF) {
      continuation = 1;
    } else if (b >= 0xE0 && b <= 0xEF) {
      continuation = 2;
    } else if (b >= 0xF0 && b <= 0xF4) {
      continuation = 3;
    } else if (b >= 0x80) {
      return false;
    }
  }
  return continuation == 0;
}

}  // namespace

TokenTrie::~TokenTrie() = default;
TokenTrie::TokenTrie(TokenTrie&&) noexcept = default;

TokenTrie::TokenTrie(const std::vector<std::string>& token_bytes) : TokenTrie(token_bytes, true) {}

TokenTrie::TokenTrie(const std::vector<std::string>& token_bytes, bool index_plain_strings)
    : num_tokens_(static_cast<int64_t>(token_bytes.size())) {
  if (index_plain_strings) {
    plain_string_tokens_.assign((token_bytes.size() + 63) / 64, 0);
    std::vector<std::string> others(token_bytes.size());
    for (size_t i = 0; i < token_bytes.size(); ++i) {
      if (IsPlainStringContent(token_bytes[i])) plain_string_tokens_[i / 64] |= uint64_t{1} << (i % 64);
      else others[i] = token_bytes[i];
    }
    non_plain_.reset(new TokenTrie(others, false));
  }
  std::vector<int32_t> ids;
  for (size_t i = 0; i < token_bytes.size(); ++i)
    if (!token_bytes[i].empty()) ids.push_back(static_cast<int32_t>(i));
  std::sort(ids.begin(), ids.end(), [&](int32_t a, int32_t b) {
    return token_bytes[static_cast<size_t>(a)] < token_bytes[static_cast<size_t>(b)] ||
           (token_bytes[static_cast<size_t>(a)] == token_bytes[static_cast<size_t>(b)] && a < b);
  });
  nodes_.push_back(Node{});
  token_ids_.reserve(ids.size());
  Build(0, ids, 0, ids.size(), 0, token_bytes);
}

TokenTrie TokenTrie::FromTokenizer(const Tokenizer& tokenizer) {
  std::vector<std::string> bytes(static_cast<size_t>(tokenizer.vocab_size()));
  for (int32_t id = 0; id < tokenizer.vocab_size(); ++id)
    if (!tokenizer.IsSpecial(id)) bytes[static_cast<size_t>(id)] = std::string(tokenizer.IdBytes(id));
  return TokenTrie(bytes);
}

void TokenTrie::Build(int32_t parent, const std::vector<int32_t>& ids, size_t lo, size_t hi, size_t depth,
                      const std::vector<std::string>& bytes) {
  max_depth_ = std::max(max_depth_, depth);
  auto text = [&](size_t i) -> const std::string& { return bytes[static_cast<size_t>(ids[i])]; };
  // Ids whose bytes end at this depth sort first in the range.
  const int32_t first_token = static_cast<int32_t>(token_ids_.size());
  while (lo < hi && text(lo).size() == depth) token_ids_.push_back(ids[lo++]);
  nodes_[static_cast<size_t>(parent)].first_token = first_token;
  nodes_[static_cast<size_t>(parent)].num_tokens = static_cast<int32_t>(token_ids_.size()) - first_token;
  // One child per distinct next byte, allocated together, then filled recursively.
  std::vector<std::pair<size_t, size_t>> groups;
  for (size_t i = lo; i < hi;) {
    size_t j = i;
    while (j < hi && text(j)[depth] == text(i)[depth]) ++j;
    groups.emplace_back(i, j);
    i = j;
  }
  const int32_t first_child = static_cast<int32_t>(nodes_.size());
  nodes_[static_cast<size_t>(parent)].first_child = first_child;
  nodes_[static_cast<size_t>(parent)].num_children = static_cast<int32_t>(groups.size());
  for (const auto& [a, b] : groups) {
    Node child;
    child.byte = static_cast<uint8_t>(text(a)[depth]);
    nodes_.push_back(child);
  }
  for (size_t g = 0; g < groups.size(); ++g)
    Build(first_child + static_cast<int32_t>(g), ids, groups[g].first, groups[g].second, depth + 1, bytes);
}

void TokenMasker::Compute(const JsonRecognizer& state, std::span<uint64_t> allowed) {
  std::fill(allowed.begin(), allowed.end(), 0);
  if (states_.size() < trie_.max_depth_ + 1) states_.resize(trie_.max_depth_ + 1, state);
  states_[0].CopyFrom(state);
  if (!state.InStringContent()) return Walk(trie_, 0, 0, allowed);
  const std::vector<uint64_t>& plain = trie_.plain_string_tokens_;
  // Ids past a smaller model vocabulary may be set in the last word: the sampler reads only its ids.
  std::copy_n(plain.begin(), std::min(plain.size(), allowed.size()), allowed.begin());
  Walk(*trie_.non_plain_, 0, 0, allowed);
}

void TokenMasker::Walk(const TokenTrie& trie, int32_t node, size_t depth, std::span<uint64_t> allowed) {
  const TokenTrie::Node& n = trie.nodes_[static_cast<size_t>(node)];
  for (int32_t c = n.first_child; c < n.first_child + n.num_children; ++c) {
    const TokenTrie::Node& child = trie.nodes_[static_cast<size_t>(c)];
    JsonRecognizer& next = states_[depth + 1];
    next.CopyFrom(states_[depth]);
    if (!next.Feed(child.byte)) continue;
    for (int32_t k = child.first_token; k < child.first_token + child.num_tokens; ++k) {
      const size_t id = static_cast<size_t>(trie.token_ids_[static_cast<size_t>(k)]);
      if (id / 64 < allowed.size()) allowed[id / 64] |= uint64_t{1} << (id % 64);  // beyond: not in the model
    }
    if (child.num_children > 0) Walk(trie, c, depth + 1, allowed);
  }
}

}  // namespace sieve::text
