// Rank-ordered BPE merging over token ids with a min-heap (O(n log n) per piece, so a 5000-character
// piece without spaces stays cheap).
#include "text/bpe_model.h"

#include <fmt/format.h>

#include <algorithm>
#include <functional>

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
  size_t capacity = 16;
  while (capacity < 2 * merges.size()) capacity *= 2;
  m.slots_.resize(capacity);
  std::string merged;
  for (size_t rank = 0; rank < merges.size(); ++rank) {
    const auto& [left, right] = merges[rank];
    const auto l = vocab.find(left), r = vocab.find(right);
    merged.assign(left).append(right);
    const auto out = vocab.find(merged);
    if (l == vocab.end() || r == vocab.end() || out == vocab.end())
      return Status::InvalidArgument(
          fmt::format("BPE merge {} '{} {}' refers to a token missing from the vocab", rank, left, right));
    m.InsertMerge(PairKey(l->second, r->second), Merge{static_cast<int32_t>(rank), out->second});
  }
  return m;
}

namespace {
size_t SlotHash(uint64_t key) { return static_cast<size_t>((key * 0x9E3779B97F4A7C15ull) >> 20); }
}  // namespace

void BpeModel::InsertMerge(uint64_t key, Merge merge) {
  const size_t mask = slots_.size() - 1;
  for (size_t i = SlotHash(key) & mask;; i = (i + 1) & mask) {
    if (slots_[i].key == key) return;  // a repeated pair keeps its first (lowest) rank
    if (slots_[i].key == kEmptyKey) {
      slots_[i] = {key, merge};
      return;
    }
  }
}

const BpeModel::Merge* BpeModel::FindMerge(int32_t left, int32_t right) const {
  const uint64_t key = PairKey(left, right);
  const size_t mask = slots_.size() - 1;
  for (size_t i = SlotHash(key) & mask;; i = (i + 1) & mask) {
    if (slots_[i].key == key) return &slots_[i].merge;
    if (slots_[i].key == kEmptyKey) return nullptr;
  }
}

void BpeModel::Encode(std::string_view piece, std::vector<int32_t>* ids) const {
  const size_t n = piece.size();
  if (n == 1) {
    ids->push_back(byte_ids_[static_cast<unsigned char>(piece[0])]);
    return;
  }
  // Symbols form a linked list over positions; a merged-away symbol gets id -1. The buffers are reused
  // across pieces (thread-local, so Encode stays safe to call from several threads).
  struct Candidate {
    int32_t rank, pos, left, right, merged;
    bool operator>(const Candidate& o) const { return rank != o.rank ? rank > o.rank : pos > o.pos; }
  };
  thread_local std::vector<int32_t> sym, prev, next;
  thread_local std::vector<Candidate> heap;  // min-heap by (rank, position)
  sym.resize(n);
  prev.resize(n);
  next.resize(n);
  for (size_t i = 0; i < n; ++i) {
    sym[i] = byte_ids_[static_cast<unsigned char>(piece[i])];
    prev[i] = static_cast<int32_t>(i) - 1;
    next[i] = i + 1 < n ? static_cast<int32_t>(i + 1) : -1;
  }
  heap.clear();
  auto push = [&](int32_t pos) {
    const int32_t nx = next[pos];
    if (nx < 0) return;
    if (const Merge* m = FindMerge(sym[pos], sym[nx])) {
      heap.push_back({m->rank, pos, sym[pos], sym[nx], m->merged_id});
      std::push_heap(heap.begin(), heap.end(), std::greater<>());
    }
  };
  for (size_t i = 0; i + 1 < n; ++i) push(static_cast<int32_t>(i));
  while (!heap.empty()) {
    std::pop_heap(heap.begin(), heap.end(), std::greater<>());
    const Candidate c = heap.back();
    heap.pop_back();
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
