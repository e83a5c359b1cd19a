// Rate of the prefill projections against their two limits, measured in the same run: the FP32 FMA peak
// (kernels/machine_limits.h) and a library GEMM on the same shape: oneDNN's sgemm (bench/library_sgemm.h)
// on the fp32 weights, over the same grid of 256-token x 128-row calls split over the same pool. Our
// rows are kernels::Matmul, the packed-panel GEMM of kernels/gemm_matmul.h; the FP8 and BF16 rows add
// decoding each weight panel.
//   gemm_bench [--threads N] [--runs 5]
// Shapes: n tokens x the `small` preset's dense projections (hidden 1024 -> 1024 and 1024 -> 2560).
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "bench/library_sgemm.h"
#include "bench/model_like_weights.h"
#include "bench/timed_runs.h"
#include "kernels/machine_limits.h"
#include "kernels/matmul.h"

using namespace sieve;

namespace {

// Median seconds of `runs` calls of fn after one warm-up call.
double MedianSeconds(int runs, const std::function<void()>& fn) { return bench::TimeRuns(runs, fn, 1).median; }

// y [n, rows] = x [n, cols] . w^T with oneDNN, in the grid kernels/gemm_matmul.cpp uses (256 tokens x 128
// rows per call), the calls split over the pool.
void LibraryGemm(const float* x, int64_t n, const float* w, int64_t rows, int64_t cols, float* y, kernels::ThreadPool& pool) {
  constexpr int64_t kPanel = 128, kTokenBlock = 256;
  const int64_t token_blocks = (n + kTokenBlock - 1) / kTokenBlock;
  pool.ParallelFor((rows + kPanel - 1) / kPanel * token_blocks, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) {
      const int64_t r0 = (i / token_blocks) * kPanel, t0 = (i % token_blocks) * kTokenBlock;
      bench::Sgemm(true, std::min(kTokenBlock, n - t0), std::min(kPanel, rows - r0), cols, x + t0 * cols, cols,
                     w + r0 * cols, cols, y + t0 * rows + r0, rows);
    }
  });
}

}  // namespace

int main(int argc, char** argv) {
  int threads = 0, runs = 5;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--threads") == 0) threads = std::stoi(argv[i + 1]);
    if (std::strcmp(argv[i], "--runs") == 0) runs = std::stoi(argv[i + 1]);
  }
  if (threads <= 0) threads = kernels::ThreadPool::DefaultThreadCount();
  kernels::ThreadPool pool(threads);
  const double peak = kernels::MeasureFmaPeak(pool, int64_t{1} << 22, 5).best;
  std::printf("FP32 FMA peak (%d threads, this run): %.1f GFLOP/s\n", threads, peak / 1e9);
  for (const int64_t n : {512, 2048})
    for (const int64_t rows : {1024, 2560}) {
      const int64_t cols = 1024;
      std::vector<float> x(n * cols, 0.5f), y(n * rows);
      std::vector<float> w32(rows * cols);
      for (int64_t i = 0; i < rows * cols; ++i) w32[i] = static_cast<float>((i * 7919) % 2001 - 1000) / 32000.0f;
      const double library_rate =
          2.0 * n * rows * cols / MedianSeconds(runs, [&] { LibraryGemm(x.data(), n, w32.data(), rows, cols, y.data(), pool); });
      std::printf("n %5ld x [%ld x %ld] oneDNN sgemm, f32 weights: %6.1f GFLOP/s = %5.1f%% of FMA peak\n", static_cast<long>(n),
                  static_cast<long>(rows), static_cast<long>(cols), library_rate / 1e9, 100 * library_rate / peak);
      for (const DType dtype : {DType::kF32, DType::kBF16, DType::kF8E4M3}) {
        const bench::ModelLikeWeights w = bench::MakeModelLikeWeights(dtype, rows, cols);
        const double secs = MedianSeconds(runs, [&] { kernels::Matmul(w.view, x.data(), n, y.data(), pool); });
        const double rate = 2.0 * n * rows * cols / secs;
        std::printf("n %5ld x [%ld x %ld] %-5s median %7.2f ms  %6.1f GFLOP/s = %5.1f%% of FMA peak, %5.1f%% of oneDNN's rate\n",
                    static_cast<long>(n), static_cast<long>(rows), static_cast<long>(cols), std::string(DTypeName(dtype)).c_str(),
                    1e3 * secs, rate / 1e9, 100 * rate / peak, 100 * rate / library_rate);
      }
    }
}
