// Helpers for the forward-pass tests: the tiny-dsv32-a goldens, a KV cache with a simple block table per
// sequence, greedy generation through the cache, and the comparison metrics.
#pragma once

#include <algorithm>
#include <cmath>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "model/checkpoint.h"
#include "model/model.h"
#include "model/safetensors.h"

namespace sieve::model::test_support {

// One golden safetensors file of the fixture.
class GoldenFile {
 public:
  explicit GoldenFile(const std::string& path) {
    auto f = SafetensorsFile::Open(path);
    if (f.ok()) file_ = std::move(f).value();
  }
  bool ok() const { return file_ != nullptr; }
  Tensor Float(const std::string& name) const { return ToFloatTensor(View(name)); }
  std::vector<int32_t> Ints(const std::string& name) const {
    const ConstTensorView& v = View(name);
    const int32_t* p = v.as<int32_t>();
    return std::vector<int32_t>(p, p + NumElements(v.shape));
  }
  const ConstTensorView& View(const std::string& name) const { return *file_->Find(name); }

 private:
  std::unique_ptr<SafetensorsFile> file_;
};

// Blocks of 16 tokens; sequence i owns blocks [i * blocks_per_seq, (i + 1) * blocks_per_seq).
constexpr int64_t kBlockSize = 16;
constexpr int64_t kBlocksPerSeq = 10;  // 160 positions: the longest run is 100 + 16

inline std::vector<int32_t> BlockTable(int64_t seq) {
  std::vector<int32_t> t(kBlocksPerSeq);
  for (int64_t b = 0; b < kBlocksPerSeq; ++b) t[b] = static_cast<int32_t>(seq * kBlocksPerSeq + b);
  return t;
}

inline std::unique_ptr<PagedKvCache> MakeCache(const Model& m, int64_t n_seqs, KvCacheDtype dtype = KvCacheDtype::kF32) {
  return std::make_unique<PagedKvCache>(m.config(), m.num_cache_layers(), n_seqs * kBlocksPerSeq, kBlockSize, dtype);
}

inline SequenceChunk Chunk(int64_t seq, std::vector<int32_t> ids, int64_t start_pos, SequenceChunk::Logits logits) {
  SequenceChunk c;
  c.token_ids = std::move(ids);
  c.start_pos = start_pos;
  c.block_table = BlockTable(seq);
  c.logits = logits;
  return c;
}

inline std::vector<int32_t> Slice(const std::vector<int32_t>& v, size_t begin, size_t end) {
  return std::vector<int32_t>(v.begin() + begin, v.begin() + end);
}

inline int32_t Argmax(const float* row, int64_t n) {
  return static_cast<int32_t>(std::max_element(row, row + n) - row);
}

// Max |a - b| over rows [row0, row0 + rows) of two [*, width] arrays; +inf if NaN positions differ.
inline double MaxAbsDiff(const float* a, const float* b, int64_t n) {
  double worst = 0;
  for (int64_t i = 0; i < n; ++i) {
    if (std::isnan(a[i]) != std::isnan(b[i])) return INFINITY;
    if (!std::isnan(a[i])) worst = std::max(worst, static_cast<double>(std::abs(a[i] - b[i])));
  }
  return worst;
}

inline double MaxAbsDiff(const Tensor& a, const Tensor& b) {
  if (a.shape != b.shape) return INFINITY;
  return MaxAbsDiff(a.ptr(), b.ptr(), a.numel());
}

// Rows whose argmax differs.
inline int64_t ArgmaxMismatches(const Tensor& a, const Tensor& b) {
  const int64_t width = a.shape.back(), rows = a.numel() / width;
  int64_t bad = 0;
  for (int64_t r = 0; r < rows; ++r) bad += Argmax(a.ptr() + r * width, width) != Argmax(b.ptr() + r * width, width);
  return bad;
}

// One prefill of `ids` (sequence 0, fresh cache) returning every position's logits [n, vocab].
inline Tensor PrefillLogits(Model& m, const std::vector<int32_t>& ids, ForwardOutput* out_full = nullptr) {
  auto cache = MakeCache(m, 1);
  ForwardBatch batch;
  batch.seqs.push_back(Chunk(0, ids, 0, SequenceChunk::Logits::kAll));
  ForwardOutput out;
  const Status s = m.Forward(batch, *cache, &out);
  if (!s.ok()) return Tensor();
  if (out_full) *out_full = out;
  return out.logits;
}

// Greedy generation: prefill, then one decode step per token through the cache. Returns the chosen
// tokens and the logits each was chosen from ([steps, vocab]).
inline std::pair<std::vector<int32_t>, Tensor> Greedy(Model& m, const std::vector<int32_t>& prompt, int64_t steps) {
  const int64_t vocab = m.config().vocab_size;
  auto cache = MakeCache(m, 1);
  std::vector<int32_t> tokens;
  Tensor logits({steps, vocab});
  ForwardBatch batch;
  batch.seqs.push_back(Chunk(0, prompt, 0, SequenceChunk::Logits::kLast));
  for (int64_t k = 0; k < steps; ++k) {
    ForwardOutput out;
    if (!m.Forward(batch, *cache, &out).ok()) return {};
    std::copy_n(out.logits.ptr(), vocab, logits.ptr() + k * vocab);
    tokens.push_back(Argmax(out.logits.ptr(), vocab));
    SequenceChunk& c = batch.seqs[0];
    c.start_pos += static_cast<int64_t>(c.token_ids.size());
    c.token_ids = {tokens.back()};
  }
  return {tokens, logits};
}

}  // namespace sieve::model::test_support
