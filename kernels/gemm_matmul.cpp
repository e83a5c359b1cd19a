// Decoded-panel products (see gemm_matmul.h).
#include "kernels/gemm_matmul.h"

#include <algorithm>
#include <vector>

#include "kernels/panel_gemm.h"

namespace sieve::kernels {

namespace {

// Work is a fixed grid of (weight panel, token block) GEMM calls, not derived from the thread count, so
// every output element comes from the same call with the same arguments whatever the split: results do
// not depend on the number of threads (PanelGemm's sums do not depend on the grid either). A panel is 128
// weight rows (Matmul) or columns (MatmulTransposed), one FP8 row block; token blocks give a single
// 128-row head slice (kv_b_proj) work for several threads.
constexpr int64_t kPanel = 128;
constexpr int64_t kTokenBlock = 256;

int64_t Blocks(int64_t n, int64_t block) { return (n + block - 1) / block; }

// Rows [r0, r0 + rows) of w, decoded to fp32, in PanelGemm's packed layout (kernels/panel_gemm.h),
// one group of G rows at a time through `rows_scratch` (G decoded rows: 128 KiB at 1,024 columns, so
// they are still in L2 when PackPanel reads them).
void DecodePanel(const WeightMatrix& w, int64_t r0, int64_t rows, std::vector<float>& packed,
                 std::vector<float>& rows_scratch) {
  const int64_t group = PanelGemmGroupColumns(), cols = w.cols;
  packed.resize(static_cast<size_t>(Blocks(rows, group) * group * cols));
  rows_scratch.resize(static_cast<size_t>(group * cols));
  for (int64_t g0 = 0; g0 < rows; g0 += group) {
    const int64_t n = std::min(group, rows - g0);
    for (int64_t k = 0; k < n; ++k) DequantizeRow(w, r0 + g0 + k, rows_scratch.data() + k * cols);
    PackPanel(rows_scratch.data(), cols, n, cols, packed.data() + g0 * cols);
  }
}

}  // namespace

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
    thread_local std::vector<float> panel, rows_scratch;  // reused across calls: no allocation in the hot path
    int64_t decoded_product = -1, decoded_panel = -1;
    int64_t j = std::upper_bound(first.begin(), first.end(), i0) - first.begin() - 1;  // the product of item i0
    for (int64_t i = i0; i < i1; ++i) {
      while (i >= first[j + 1]) ++j;
      const MatmulProduct& product = products[j];
      const WeightMatrix& w = *product.w;
      const int64_t item = i - first[j], p = item / token_blocks[j], t0 = (item % token_blocks[j]) * kTokenBlock;
      const int64_t r0 = p * kPanel, rows = std::min(kPanel, w.rows - r0), tokens = std::min(kTokenBlock, product.n - t0);
      if (j != decoded_product || p != decoded_panel) {
        DecodePanel(w, r0, rows, panel, rows_scratch);
        decoded_product = j;
        decoded_panel = p;
      }
      // y[t0:t0+tokens, r0:r0+rows] = x[t0:t0+tokens, :] . panel^T
      const int64_t group = PanelGemmGroupColumns();
      PanelGemm(tokens, rows, w.cols, product.x + t0 * w.cols, w.cols, panel.data(), group, w.cols * group,
                product.y + t0 * w.rows + r0, w.rows);
    }
  });
}

void GemmMatmulTransposed(const WeightMatrix& w, const float* x, int64_t n, float* y, ThreadPool& pool) {
  // The transposed product is used per head (one kv_b_proj slice, e.g. 128 x 512): decoding it whole once
  // costs rows x cols, against n x rows x cols FMAs. W [rows, cols] row-major is already PanelGemm's B
  // [k = rows, n = cols] in groups of G columns, once its rows are padded to a multiple of G.
  const int64_t group = PanelGemmGroupColumns(), ld = Blocks(w.cols, group) * group;
  thread_local std::vector<float> decoded;  // [rows, ld]
  decoded.assign(static_cast<size_t>(w.rows * ld), 0.0f);
  for (int64_t r = 0; r < w.rows; ++r) DequantizeRow(w, r, decoded.data() + r * ld);
  const float* wf = decoded.data();
  const int64_t token_blocks = Blocks(n, kTokenBlock);
  pool.ParallelFor(Blocks(w.cols, kPanel) * token_blocks, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) {
      const int64_t c0 = (i / token_blocks) * kPanel, t0 = (i % token_blocks) * kTokenBlock;
      const int64_t cols = std::min(kPanel, w.cols - c0), tokens = std::min(kTokenBlock, n - t0);
      // y[t0:t0+tokens, c0:c0+cols] = x[t0:t0+tokens, :] . W[:, c0:c0+cols]
      PanelGemm(tokens, cols, w.rows, x + t0 * w.rows, w.rows, wf + c0, ld, group, y + t0 * w.cols + c0, w.cols);
    }
  });
}

}  // namespace sieve::kernels
