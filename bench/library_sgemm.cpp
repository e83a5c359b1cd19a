// oneDNN's sgemm, one thread per calling thread (see library_sgemm.h).
#include "bench/library_sgemm.h"

#include <oneapi/dnnl/dnnl.h>

#include "core/logging.h"

// The OpenMP runtime oneDNN uses (libgomp, see bench/CMakeLists.txt), declared here rather than through
// <omp.h>, which only an -fopenmp compile provides under clang.
extern "C" void omp_set_num_threads(int num_threads);

namespace sieve::bench {

void Sgemm(bool b_transposed, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* b,
           int64_t ldb, float* c, int64_t ldc) {
  // Debian's oneDNN threads through OpenMP, whose thread count is a per-thread setting: one thread for
  // every thread that calls in (the first call on a thread sets it).
  thread_local const bool one_thread = [] {
    omp_set_num_threads(1);
    return true;
  }();
  (void)one_thread;
  const dnnl_status_t status = dnnl_sgemm('N', b_transposed ? 'T' : 'N', m, n, k, 1.0f, a, lda, b, ldb, 0.0f, c, ldc);
  SIEVE_CHECK(status == dnnl_success);
}

}  // namespace sieve::bench
