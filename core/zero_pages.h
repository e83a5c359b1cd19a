// ZeroPages: a large zero-filled buffer whose memory the kernel commits page by page on first touch (an
// anonymous private mapping). Sized buffers such as the KV cache are reserved whole at start-up but
// filled gradually: zeroing them eagerly (std::vector) faulted in every page before the server could
// listen, 9.5 GiB taking minutes on a loaded VM. Reads of untouched pages see zeros, as a vector would.
// An inaccessible guard page on each side makes an out-of-bounds access fault at once instead of
// corrupting a neighbour, and keeps the kernel from merging the mapping with adjacent ones, so it shows in
// /proc/PID/smaps as one entry of exactly size() bytes (rounded up to pages): the stress tier reads its
// resident size there to tell cache pages from leaks.
#pragma once

#include <cstddef>
#include <cstdint>

namespace sieve {

class ZeroPages {
 public:
  ZeroPages() = default;
  explicit ZeroPages(size_t bytes);  // throws std::bad_alloc when the mapping fails, as a vector would
  ~ZeroPages();
  ZeroPages(ZeroPages&& other) noexcept;
  ZeroPages& operator=(ZeroPages&& other) noexcept;
  ZeroPages(const ZeroPages&) = delete;
  ZeroPages& operator=(const ZeroPages&) = delete;

  uint8_t* data() { return data_; }
  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }

 private:
  void Unmap();

  uint8_t* data_ = nullptr;  // first usable byte, one page after the mapping's start
  size_t size_ = 0;
};

}  // namespace sieve
