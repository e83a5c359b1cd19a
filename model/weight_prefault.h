// Prefaulting a rank's memory-mapped weights at load: every page of the tensors its steps read is mapped
// into the process before the first step (madvise MADV_POPULATE_READ, Linux 5.14+; llama.cpp maps its
// weights with MAP_POPULATE for the same reason), so a step does not stop for a page fault the first time
// it reads a page (a 2 MiB folio with MADV_HUGEPAGE, see model/safetensors.cpp). A MoE layer reads a few
// experts per token, so a server's steps keep meeting experts no step has read yet for a long while. On
// the full-shape 4-layer checkpoint a `sieve bench latency` run of 6 prefills and 54 decode steps took
// ~77,000 fewer page faults, and its routed experts' GEMVs 6-15% less time (three interleaved pairs of
// runs; docs/performance.md, round 24); the whole batch-1 step moved by ~1%, within the noise. `--no-mmap`
// copies the tensors instead and needs none of this.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "model/checkpoint.h"
#include "model/model_shard.h"

namespace sieve::model {

// [data, data + bytes): whole pages of a mapping.
struct PageRange {
  const std::byte* data = nullptr;
  size_t bytes = 0;
};

// The pages of `checkpoint`'s tensors that `shard`'s steps read: every tensor the rank holds a share of
// (ModelShard::TensorShare > 0; a whole tensor even where the rank reads a slice of it) with its block
// scales, except the token embeddings (a step reads one row per token) and, without `with_mtp`, the MTP
// layers. Sorted by address, overlapping or touching ranges merged.
std::vector<PageRange> RankWeightPages(const Checkpoint& checkpoint, const ModelShard& shard, bool with_mtp);

struct PrefaultReport {
  enum class Outcome {
    kDone,             // every range populated
    kSeveralNodes,     // left to first touch on a NUMA machine (below)
    kTooLittleMemory,  // the pages do not fit in the memory available
    kFailed,           // the kernel refused (before Linux 5.14: EINVAL)
  };
  Outcome outcome = Outcome::kDone;
  size_t bytes = 0;     // the pages' bytes
  std::string why_not;  // unless kDone: the reason, for the log
};

// Populates `pages` unless the machine has several NUMA nodes (`numa_nodes`) or their bytes exceed
// `available_bytes` (MemAvailable, which counts the page cache they may already be in). With several nodes
// a page read in from disk lands on the node of the thread that first reads it: left alone, each pool
// thread reads its own rows of every matrix first and so places them near itself, where one loading
// thread would put the whole checkpoint on its node (llama.cpp skips its MAP_POPULATE under --numa for
// the same reason). A set larger than memory would be read in whole, evicting its own beginning. Not
// populating is no error: the pages then fault in on first use.
PrefaultReport PrefaultPages(const std::vector<PageRange>& pages, int64_t available_bytes, int numa_nodes);

}  // namespace sieve::model
