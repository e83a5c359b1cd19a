// Fp8NanMemo: which rows of one FP8 weight tensor hold the e4m3 NaN code (0x7f / 0xff), learned the first
// time a decode GEMV reads them and kept for the tensor's lifetime.
//
// Why: the decode GEMV's fused kernel (kernels/cpu/fused_dot-inl.h) decodes codes in registers without
// handling NaN, so each 4-row tile must be known free of NaN codes before it runs. Scanning every tile on
// every call read each weight byte twice per step, and the scan, the first to touch a tile, took its cache
// misses: 9% of a batch-1 decode step's samples; the FP8 GEMV over [65536 x 1024] ran 2.6-2.7 ms with the
// scan and 1.8-2.1 ms without (docs/performance.md, round 9). Checkpoints hold no NaN codes in practice,
// so after the first step every tile is known clean and the scan is one byte load per tile.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <memory>

namespace sieve::kernels {

class Fp8NanMemo {
 public:
  // Rows per memo entry: one byte per 16 rows (about 10 MB for the 671B model's FP8 weights); a NaN code
  // anywhere in a group sends every tile touching it down the decoding path, which gives the same bits.
  static constexpr int64_t kGroupRows = 16;
  enum State : uint8_t { kUnknown = 0, kClean = 1, kHasNan = 2 };

  // `codes` [rows, cols]: the whole tensor, rows contiguous; it must outlive the memo.
  Fp8NanMemo(const uint8_t* codes, int64_t rows, int64_t cols)
      : codes_(codes), rows_(rows), cols_(cols), groups_(new std::atomic<uint8_t>[NumGroups()]) {
    for (int64_t g = 0; g < NumGroups(); ++g) groups_[g].store(kUnknown, std::memory_order_relaxed);
  }

  int64_t NumGroups() const { return (rows_ + kGroupRows - 1) / kGroupRows; }
  int64_t GroupOf(int64_t row) const { return row / kGroupRows; }
  // The codes of group g (all columns of its rows), contiguous.
  const uint8_t* GroupCodes(int64_t g) const { return codes_ + g * kGroupRows * cols_; }
  int64_t GroupSize(int64_t g) const { return (std::min(rows_, (g + 1) * kGroupRows) - g * kGroupRows) * cols_; }

  // Threads may scan the same group at once: they store the same state, so relaxed order is enough.
  State Get(int64_t g) const { return static_cast<State>(groups_[g].load(std::memory_order_relaxed)); }
  void Set(int64_t g, State s) const { groups_[g].store(s, std::memory_order_relaxed); }

 private:
  const uint8_t* codes_;
  int64_t rows_, cols_;
  std::unique_ptr<std::atomic<uint8_t>[]> groups_;  // [NumGroups()]: a cache, so const methods fill it
};

}  // namespace sieve::kernels
