// How much memory the system can give without swapping, for sizing buffers up front (the KV cache) and for
// refusing a copy that would not fit (`--no-mmap`) with a message instead of an out-of-memory kill.
#pragma once

#include <cstdint>

namespace sieve {

// MemAvailable in /proc/meminfo (free memory plus the page cache and slabs the kernel can reclaim), in
// bytes; 0 if unknown.
int64_t AvailableMemoryBytes();

}  // namespace sieve
