// Rate of the prefill projections against their two limits, measured in the same run: the FP32 FMA peak
// (kernels/machine_limits.h) and sgemm itself on the same shape with fp32 weights (kernels::Matmul on an
// F32 matrix is sgemm on panels plus a row copy). The FP8 and BF16 rows add decoding each weight panel.
//   gemm_bench [--threads N] [--runs 5]
// Shapes: n tokens x the `small` preset's dense projections (hidden 1024 -> 1024 and 1024 -> 2560).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "bench/model_like_weights.h"
#include "kernels/machine_limits.h"
#include "kernels/matmul.h"

using namespace sieve;

int main(int argc, char** argv) {
  int threads = 0, runs = 5;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--threads") == 0) threads = std::stoi(argv[i + 1]);
    if (std::strcmp(argv[i], "--runs") == 0) runs = std::stoi(argv[i + 1]);
  }
  if (threads <= 0) threads = kernels::ThreadPool::DefaultThreadCount();
  kernels::ThreadPool pool(threads);
  const double peak = kernels::MeasureFmaPeak(pool, 2'000'000, 5).best;
  std::printf("FP32 FMA peak (%d threads, this run): %.1f GFLOP/s\n", threads, peak / 1e9);
  for (const int64_t n : {512, 2048})
    for (const int64_t rows : {1024, 2560}) {
      const int64_t cols = 1024;
      std::vector<float> x(n * cols, 0.5f), y(n * rows);
      double f32_rate = 0;
      for (const DType dtype : {DType::kF32, DType::kBF16, DType::kF8E4M3}) {
        const bench::ModelLikeWeights w = bench::MakeModelLikeWeights(dtype, rows, cols);
        std::vector<double> secs;
        for (int r = 0; r <= runs; ++r) {  // the first run warms up
          const auto t0 = std::chrono::steady_clock::now();
          kernels::Matmul(w.view, x.data(), n, y.data(), pool);
          const std::chrono::duration<double> dt = std::chrono::steady_clock::now() - t0;
          if (r > 0) secs.push_back(dt.count());
        }
        std::sort(secs.begin(), secs.end());
        const double rate = 2.0 * n * rows * cols / secs[secs.size() / 2];
        if (dtype == DType::kF32) f32_rate = rate;
        std::printf("n %5ld x [%ld x %ld] %-5s median %7.2f ms  %6.1f GFLOP/s = %5.1f%% of FMA peak, %5.1f%% of the f32 sgemm rate\n",
                    static_cast<long>(n), static_cast<long>(rows), static_cast<long>(cols), std::string(DTypeName(dtype)).c_str(),
                    1e3 * secs[secs.size() / 2], rate / 1e9, 100 * rate / peak, 100 * rate / f32_rate);
      }
    }
}
