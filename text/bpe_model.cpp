// Rank-ordered BPE merging over token ids with a min-heap (O(n log n) per piece, so a 5000-character
// piece without spaces stays cheap).
#include "text/bpe_model.h"

#include <fmt/format.h>

#include <queue>

#include "text/byte_level.h"
#include "text/utf8.h"

namespace sieve::text {

StatusOr<BpeModel> BpeModel::Create(const std::unordered_map<std::string, int32_t>& vocab,
                                    const std::vector<std::pair<std::string, std::string>>& merges) {
  BpeModel m;
  for (int b = 0; b < 256; ++b) {
    std::string symbol;
    AppendUtf8(ByteToCodePoint(static_cast<unsigned char>(b)), &symbol);
    const auto it = vocab.find(symbol);
    if (it == vocab.end())
      return Status::InvalidArgument(fmt::format("BPE vocab has no token for byte 0x{:02x} ('{}')", b, symbol));
    m.byte_ids_[b] = it->second;
  }
  m.merges_.reserve(merges.size());
  std::string merged;
  for (size_t rank = 0; rank < merges.size(); ++rank) {
    const auto& [left, right] = merges[rank];
    const auto l = vocab.find(left), r = vocab.find(right);
    merged.assign(left).append(right);
    const auto out = vocab.find(merged);
    if (l == vocab.end() || r == vocab.end() || out == vocab.end())
      return Status::InvalidArgument(
          fmt::format("BPE merge {} '{} {}' refers to a token missing from the vocab", rank, left, right));
    // A repeated pair keeps its first (lowest) rank.
    m.merges_.try_emplace(PairKey(l->second, r->second), Merge{static_cast<int32_t>(rank), out->second});
  }
  return m;
}

void BpeModel::Encode(std::string_view piece, std::vector<int32_t>* ids) const {
  const size_t n = piece.size();
  if (n == 1) {
    ids->push_back(byte_ids_[static_cast<unsigned char>(piece[0])]);
    return;
  }
  // Symbols form a linked list over positions; a merged-away symbol gets id -1.
  std::vector<int32_t> sym(n), prev(n), next(n);
  for (size_t i = 0; i < n; ++i) {
    sym[i] = byte_ids_[static_cast<unsigned char>(piece[i])];
    prev[i] = static_cast<int32_t>(i) - 1;
    next[i] = i + 1 < n ? static_cast<int32_t>(i + 1) : -1;
  }
  struct Candidate {
    int32_t rank, pos, left, right, merged;
    bool operator>(const Candidate& o) const { return rank != o.rank ? rank > o.rank : pos > o.pos; }
  };
  std::priority_queue<Candidate, std::vector<Candidate>, std::greater<>> heap;
  auto push = [&](int32_t pos) {
    const int32_t nx = next[pos];
    if (nx < 0) return;
    const auto it = merges_.find(PairKey(sym[pos], sym[nx]));
    if (it != merges_.end()) heap.push({it->second.rank, pos, sym[pos], sym[nx], it->second.merged_id});
  };
  for (size_t i = 0; i + 1 < n; ++i) push(static_cast<int32_t>(i));
  while (!heap.empty()) {
    const Candidate c = heap.top();
    heap.pop();
    const int32_t nx = next[c.pos];
    // Stale entry: one side was merged into something else since this pair was queued.
    if (sym[c.pos] != c.left || nx < 0 || sym[nx] != c.right) continue;
    sym[c.pos] = c.merged;
    sym[nx] = -1;
    next[c.pos] = next[nx];
    if (next[nx] >= 0) prev[next[nx]] = c.pos;
    if (prev[c.pos] >= 0) push(prev[c.pos]);
    push(c.pos);
  }
  for (int32_t i = 0; i >= 0; i = next[i]) ids->push_back(sym[i]);
}

}  // namespace sieve::text
