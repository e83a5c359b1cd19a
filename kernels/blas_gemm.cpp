// Decoded-panel sgemm (see blas_gemm.h).
#include "kernels/blas_gemm.h"

#include <oneapi/dnnl/dnnl.h>

#include <algorithm>
#include <vector>

#include "core/logging.h"
#include "kernels/matmul.h"

// The OpenMP runtime oneDNN uses (libgomp, see CMakeLists.txt), declared here rather than through
// <omp.h>, which only an -fopenmp compile provides under clang.
extern "C" void omp_set_num_threads(int num_threads);

namespace sieve::kernels {

namespace {

// Work is a fixed grid of (weight panel, token block) sgemm calls, not derived from the thread count, so
// every output element comes from the same call with the same arguments whatever the split: results do
// not depend on the number of threads. A panel is 128 weight rows (Matmul) or columns (MatmulTransposed),
// one FP8 row block; token blocks keep both operands' packing (which the GEMM redoes per call) at
// <= 1/256 of a call's FMAs, and give a single 128-row head slice (kv_b_proj) work for several threads.
constexpr int64_t kPanel = 128;
constexpr int64_t kTokenBlock = 256;

int64_t Blocks(int64_t n, int64_t block) { return (n + block - 1) / block; }

}  // namespace

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

void GemmMatmulMany(std::span<const MatmulProduct> products, ThreadPool& pool) {
  // Items of product j: [first[j], first[j + 1]); item i of a product = panel i / token_blocks, token block
  // i % token_blocks, so a thread's contiguous items share panels and it decodes each of its panels once.
  // One pool job for all products: a MoE layer's experts (~2 panels x 1-2 token blocks each at a
  // 2,048-token prefill) no longer wait for each other's last item, one job each.
  const int64_t count = static_cast<int64_t>(products.size());
  std::vector<int64_t> first(1, 0), token_blocks(count);
  for (int64_t j = 0; j < count; ++j) {
    token_blocks[j] = Blocks(products[j].n, kTokenBlock);
    first.push_back(first.back() + Blocks(products[j].w->rows, kPanel) * token_blocks[j]);
  }
  pool.ParallelFor(first.back(), [&](int64_t i0, int64_t i1) {
    thread_local std::vector<float> panel;  // [rows, cols]; reused across calls: no allocation in the hot path
    int64_t decoded_product = -1, decoded_panel = -1;
    int64_t j = std::upper_bound(first.begin(), first.end(), i0) - first.begin() - 1;  // the product of item i0
    for (int64_t i = i0; i < i1; ++i) {
      while (i >= first[j + 1]) ++j;
      const MatmulProduct& product = products[j];
      const WeightMatrix& w = *product.w;
      const int64_t item = i - first[j], p = item / token_blocks[j], t0 = (item % token_blocks[j]) * kTokenBlock;
      const int64_t r0 = p * kPanel, rows = std::min(kPanel, w.rows - r0), tokens = std::min(kTokenBlock, product.n - t0);
      if (j != decoded_product || p != decoded_panel) {
        panel.resize(static_cast<size_t>(rows * w.cols));
        for (int64_t k = 0; k < rows; ++k) DequantizeRow(w, r0 + k, panel.data() + k * w.cols);
        decoded_product = j;
        decoded_panel = p;
      }
      // y[t0:t0+tokens, r0:r0+rows] = x[t0:t0+tokens, :] . panel^T
      Sgemm(true, tokens, rows, w.cols, product.x + t0 * w.cols, w.cols, panel.data(), w.cols,
            product.y + t0 * w.rows + r0, w.rows);
    }
  });
}

void GemmMatmulTransposed(const WeightMatrix& w, const float* x, int64_t n, float* y, ThreadPool& pool) {
  // The transposed product is used per head (one kv_b_proj slice, e.g. 128 x 512): decoding it whole once
  // costs rows x cols, against n x rows x cols FMAs.
  thread_local std::vector<float> decoded;  // [rows, cols]
  decoded.resize(static_cast<size_t>(w.rows * w.cols));
  for (int64_t r = 0; r < w.rows; ++r) DequantizeRow(w, r, decoded.data() + r * w.cols);
  const float* wf = decoded.data();
  const int64_t token_blocks = Blocks(n, kTokenBlock);
  pool.ParallelFor(Blocks(w.cols, kPanel) * token_blocks, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) {
      const int64_t c0 = (i / token_blocks) * kPanel, t0 = (i % token_blocks) * kTokenBlock;
      const int64_t cols = std::min(kPanel, w.cols - c0), tokens = std::min(kTokenBlock, n - t0);
      // y[t0:t0+tokens, c0:c0+cols] = x[t0:t0+tokens, :] . W[:, c0:c0+cols]
      Sgemm(false, tokens, cols, w.rows, x + t0 * w.rows, w.rows, wf + c0, w.cols, y + t0 * w.cols + c0, w.cols);
    }
  });
}

}  // namespace sieve::kernels
