// Activation buffers reused from call to call (thread_local vectors on the thread that runs the layers):
// allocated per call, a long prefill's buffers (tens of MiB per layer) were page-faulted in again in every
// layer (docs/performance.md, rounds 6 and 11).
#pragma once

#include <cstddef>
#include <vector>

namespace sieve {

// Makes `buffer` hold at least n elements and returns its data, without touching the elements it already
// has: std::vector::resize value-initialises every element past the current size even when the capacity
// is there, so on a server, where decode steps shrink the buffers between prefills, every long prefill
// zero-filled them again, up to tens of MiB per layer (75 MiB for the MoE rows of a 2,048-token prefill
// on `small`). For buffers whose every element a call reads it first writes.
template <class T>
T* GrowScratch(std::vector<T>& buffer, size_t n) {
  if (buffer.size() < n) buffer.resize(n);
  return buffer.data();
}

}  // namespace sieve
