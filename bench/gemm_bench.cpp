// Rate of the prefill projections against their two limits, measured in the same run: the FP32 FMA peak
// (kernels/machine_limits.h) and sgemm itself on the same shape with fp32 weights (kernels::Matmul on an
// F32 matrix is sgemm on panels plus a row copy). The FP8 and BF16 rows add decoding each weight panel.
//   gemm_bench [--threads N] [--runs 5]
// Shapes: n tokens x the `small` preset's dense projections (hidden 1024 -> 1024 and 1024 -> 2560).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "kernels/machine_limits.h"
#include "kernels/matmul.h"

namespace {

using namespace sieve;

struct Weights {
  std::vector<uint8_t> bytes;
  std::vector<float> scales;
  kernels::WeightMatrix view;
};

// Random weights of `dtype` (FP8 codes avoid the NaN code; unit block scales of 1/64).
Weights MakeWeights(DType dtype, int64_t rows, int64_t cols) {
  std::mt19937 rng(1);
  std::uniform_int_distribution<int> byte(0, 255);
  Weights w;
  w.bytes.resize(rows * cols * DTypeSize(dtype));
  for (auto& b : w.bytes) b = static_cast<uint8_t>(byte(rng)) & 0x7e;  // no NaN / Inf patterns, small exponents
  w.view = {dtype, reinterpret_cast<const std::byte*>(w.bytes.data()), 0, rows, cols};
  if (dtype == DType::kF8E4M3) {
    w.scales.assign(((rows + 127) / 128) * ((cols + 127) / 128), 1.0f / 64);
    w.view.scale_inv = w.scales.data();
    w.view.scale_cols = (cols + 127) / 128;
  }
  return w;
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
  const double peak = kernels::MeasureFmaPeak(pool, 2'000'000, 5).best;
  std::printf("FP32 FMA peak (%d threads, this run): %.1f GFLOP/s\n", threads, peak / 1e9);
  for (const int64_t n : {512, 2048})
    for (const int64_t rows : {1024, 2560}) {
      const int64_t cols = 1024;
      std::vector<float> x(n * cols, 0.5f), y(n * rows);
      double f32_rate = 0;
      for (const DType dtype : {DType::kF32, DType::kBF16, DType::kF8E4M3}) {
        const Weights w = MakeWeights(dtype, rows, cols);
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
