// ZeroPages over mmap(MAP_ANONYMOUS | MAP_PRIVATE | MAP_NORESERVE): the kernel hands out zeroed pages on
// first touch. Layout: [guard page][size() bytes rounded up to pages][guard page].
#include "core/zero_pages.h"

#include <sys/mman.h>
#include <unistd.h>

#include <new>
#include <utility>

namespace sieve {
namespace {

size_t PageSize() { return static_cast<size_t>(sysconf(_SC_PAGESIZE)); }

size_t RoundUpToPages(size_t bytes) { return (bytes + PageSize() - 1) / PageSize() * PageSize(); }

}  // namespace

ZeroPages::ZeroPages(size_t bytes) : size_(bytes) {
  if (bytes == 0) return;
  const size_t page = PageSize();
  void* p = mmap(nullptr, RoundUpToPages(bytes) + 2 * page, PROT_NONE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED) throw std::bad_alloc();
  data_ = static_cast<uint8_t*>(p) + page;
  if (mprotect(data_, RoundUpToPages(bytes), PROT_READ | PROT_WRITE) != 0) {
    munmap(p, RoundUpToPages(bytes) + 2 * page);
    throw std::bad_alloc();
  }
}

ZeroPages::~ZeroPages() { Unmap(); }

void ZeroPages::Unmap() {
  if (data_ != nullptr) munmap(data_ - PageSize(), RoundUpToPages(size_) + 2 * PageSize());
  data_ = nullptr;
  size_ = 0;
}

ZeroPages::ZeroPages(ZeroPages&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)) {}

ZeroPages& ZeroPages::operator=(ZeroPages&& other) noexcept {
  if (this != &other) {
    Unmap();
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

}  // namespace sieve
