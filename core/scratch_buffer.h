// ScratchBuffer: grow-only float storage for per-call scratch that every caller writes before it reads
// (a layer's activations, the MoE's gathered rows). A std::vector made per call, or resized up again
// after a smaller call, zero-fills what it adds, and glibc maps allocations over its mmap threshold
// afresh, so a long prefill zeroed and page-faulted tens of MiB per layer: memset and the page faults
// under it were ~9% of a 1,024-token prefill's samples (docs/performance.md, round 7). Keep one per
// thread (thread_local) and per use, so two live buffers never alias.
#pragma once

#include <cstdint>
#include <memory>

namespace sieve {

class ScratchBuffer {
 public:
  // Room for n floats, contents unspecified; valid until the next Get on this buffer.
  float* Get(int64_t n) {
    if (n > capacity_) {
      data_ = std::make_unique_for_overwrite<float[]>(static_cast<size_t>(n));
      capacity_ = n;
    }
    return data_.get();
  }

 private:
  std::unique_ptr<float[]> data_;
  int64_t capacity_ = 0;
};

}  // namespace sieve
