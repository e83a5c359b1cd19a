// Rate of the decode GEMV (kernels::Matmul with one token row) against the read-bandwidth probe measured
// in the same run: batch-1 decode streams every weight once, so bytes read / time is the figure of merit.
//   gemv_bench [--threads N] [--runs 5] [--cols 1024]
// Shapes from the `small` preset (--cols 7168: the full model's hidden width, with the FP8 matrix kept at
// 64 MiB): the BF16 lm_head [129280 x 1024] (0.265 GB, most of a small step), a
// large FP8 matrix [65536 x 1024], and 256 FP8 expert projections [256 x 1024] called one after another
// (64 MiB in all), which adds the per-call cost (a thread-pool round trip per matrix) of a real MoE layer,
// and the same matrices 16 to a MatmulMany call (one round trip per 16 matrices). Batched decode: 16 token
// rows against L2-resident FP8 and BF16 matrices, in GFLOP/s against the FMA probe (compute-bound there).
//   gemv_bench --model DIR [--threads N] [--runs 5]
// instead streams a checkpoint's routed experts (gate and up of every MoE layer, 16 matrices per
// kernels::MatmulMany call, as a MoE layer's decode step runs them) through the checkpoint's own mapping,
// from heap copies one allocation per matrix, and from one heap block holding them back to back, twice in
// turn: what slows a decode step's FP8 stream against the synthetic rows above (docs/performance.md, round 16).
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "bench/model_like_weights.h"
#include "bench/timed_runs.h"
#include "kernels/fp8_nan_memo.h"
#include "kernels/machine_limits.h"
#include "kernels/matmul.h"
#include "model/checkpoint.h"
#include "model/weight_views.h"

namespace {

using namespace sieve;

// Median seconds of `runs` calls of fn after one warm-up call.
double MedianSeconds(int runs, const std::function<void()>& fn) { return bench::TimeRuns(runs, fn, 1).median; }

// One token against every matrix of `views`, kPerCall matrices per MatmulMany call; median seconds.
double StreamMany(const std::vector<kernels::WeightMatrix>& views, int runs, kernels::ThreadPool& pool) {
  constexpr size_t kPerCall = 16;
  const std::vector<float> x(views.front().cols, 0.5f);
  std::vector<float> y(kPerCall * views.front().rows);
  std::vector<kernels::MatmulProduct> products;
  return MedianSeconds(runs, [&] {
    for (size_t v = 0; v < views.size(); v += kPerCall) {
      products.clear();
      for (size_t i = v; i < std::min(views.size(), v + kPerCall); ++i)
        products.push_back({&views[i], x.data(), 1, y.data() + (i - v) * views[i].rows});
      kernels::MatmulMany(products, pool);
    }
  });
}

// --model: the checkpoint's routed experts' gate and up projections (in expert order, as a MoE layer lists
// its chosen experts' products) read three ways: through the checkpoint's mapping; from heap copies, one
// allocation per matrix; and from one heap block holding them all back to back. Each copy gets its own
// NaN-code memo, as the mapped tensors have one.
int CompareLayouts(const std::string& dir, int runs, double read, kernels::ThreadPool& pool) {
  auto opened = model::Checkpoint::Open(dir);
  if (!opened.ok()) {
    std::fprintf(stderr, "gemv_bench: %s\n", opened.status().ToString().c_str());
    return 1;
  }
  const model::Checkpoint& ckpt = **opened;
  const model::ModelConfig& c = ckpt.config();
  std::vector<kernels::WeightMatrix> mapped;
  for (int64_t l = c.first_k_dense_replace; l < c.num_hidden_layers; ++l)
    for (int64_t e = 0; e < c.n_routed_experts; ++e)
      for (const char* proj : {"gate_proj", "up_proj"})
        mapped.push_back(model::LinearMatrix(
            ckpt.Linear("model.layers." + std::to_string(l) + ".mlp.experts." + std::to_string(e) + "." + proj)));
  if (mapped.empty()) {
    std::fprintf(stderr, "gemv_bench: %s has no routed experts\n", dir.c_str());
    return 1;
  }
  const auto size_of = [](const kernels::WeightMatrix& w) { return static_cast<size_t>(w.rows * w.cols) * DTypeSize(w.dtype); };
  size_t total = 0;
  for (const kernels::WeightMatrix& w : mapped) total += size_of(w);
  std::vector<std::vector<std::byte>> apart;  // one allocation per matrix
  std::vector<std::byte> together(total);     // all of them back to back
  std::vector<std::unique_ptr<kernels::Fp8NanMemo>> memos;
  std::vector<kernels::WeightMatrix> copied_apart, copied_together;
  const auto copy_to = [&](const kernels::WeightMatrix& w, const std::byte* data) {
    kernels::WeightMatrix copy = w;
    copy.data = data;
    if (w.nan_memo != nullptr) {
      memos.push_back(std::make_unique<kernels::Fp8NanMemo>(reinterpret_cast<const uint8_t*>(data), w.rows, w.cols));
      copy.nan_memo = memos.back().get();
    }
    return copy;
  };
  size_t at = 0;
  for (const kernels::WeightMatrix& w : mapped) {
    apart.emplace_back(w.data, w.data + size_of(w));
    copied_apart.push_back(copy_to(w, apart.back().data()));
    std::memcpy(together.data() + at, w.data, size_of(w));
    copied_together.push_back(copy_to(w, together.data() + at));
    at += size_of(w);
  }
  const std::string shape = std::to_string(mapped.size()) + " x [" + std::to_string(mapped.front().rows) + " x " +
                            std::to_string(mapped.front().cols) + "] " + std::string(DTypeName(mapped.front().dtype));
  const std::pair<const char*, const std::vector<kernels::WeightMatrix>*> layouts[] = {
      {"mapped", &mapped}, {"heap, apart", &copied_apart}, {"heap, together", &copied_together}};
  for (int round = 0; round < 2; ++round)
    for (const auto& [name, views] : layouts) {
      const double secs = StreamMany(*views, runs, pool);
      std::printf("experts %s, %-14s median %7.2f ms  %6.2f GB/s = %5.1f%% of read bandwidth\n", shape.c_str(), name,
                  1e3 * secs, static_cast<double>(total) / secs / 1e9, 100 * static_cast<double>(total) / secs / read);
    }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  int threads = 0, runs = 5;
  int64_t cols = 1024;
  std::string model_dir;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--threads") == 0) threads = std::stoi(argv[i + 1]);
    if (std::strcmp(argv[i], "--runs") == 0) runs = std::stoi(argv[i + 1]);
    if (std::strcmp(argv[i], "--cols") == 0) cols = std::stoi(argv[i + 1]);
    if (std::strcmp(argv[i], "--model") == 0) model_dir = argv[i + 1];
  }
  if (cols < 1) {
    std::fprintf(stderr, "gemv_bench: --cols must be positive\n");
    return 1;
  }
  if (threads <= 0) threads = kernels::ThreadPool::DefaultThreadCount();
  kernels::ThreadPool pool(threads);
  const double read = kernels::MeasureReadBandwidth(pool, int64_t{1} << 30, 5).best;
  const double fma = kernels::MeasureFmaPeak(pool, int64_t{1} << 22, 5).best;
  std::printf("read bandwidth (%d threads, this run): %.2f GB/s; FP32 FMA peak %.1f GFLOP/s\n", threads, read / 1e9, fma / 1e9);
  if (!model_dir.empty()) return CompareLayouts(model_dir, runs, read, pool);
  const auto report = [&](const std::string& what, double bytes, double secs) {
    std::printf("%-38s median %7.2f ms  %6.2f GB/s = %5.1f%% of read bandwidth\n", what.c_str(), 1e3 * secs, bytes / secs / 1e9,
                100 * bytes / secs / read);
  };
  const auto report_flops = [&](const std::string& what, double flops, double secs) {
    std::printf("%-38s median %7.2f ms  %6.1f GFLOP/s = %5.1f%% of FMA peak\n", what.c_str(), 1e3 * secs, flops / secs / 1e9,
                100 * flops / secs / fma);
  };
  const std::string width = " x " + std::to_string(cols) + "]";
  const int64_t big_rows = (int64_t{64} << 20) / cols;
  std::vector<float> x(cols, 0.5f), y(std::max<int64_t>(129280, big_rows));  // narrow --cols make the FP8 matrix taller than the head
  {
    const bench::ModelLikeWeights head = bench::MakeModelLikeWeights(DType::kBF16, 129280, cols);
    report("bf16 [129280" + width + " (lm_head)", static_cast<double>(head.bytes.size()),
           MedianSeconds(runs, [&] { kernels::Matmul(head.view, x.data(), 1, y.data(), pool); }));
    // The same head against 16 tokens (batch-16 decode): compute-bound, so against the FMA peak.
    constexpr int64_t kTokens = 16;
    const std::vector<float> xs(kTokens * cols, 0.5f);
    std::vector<float> ys(kTokens * head.view.rows);
    const double secs = MedianSeconds(runs, [&] { kernels::Matmul(head.view, xs.data(), kTokens, ys.data(), pool); });
    report_flops("bf16 16 tokens x lm_head", 2.0 * kTokens * static_cast<double>(head.view.rows) * cols, secs);
  }
  {
    // One [256 x cols] FP8 matrix (256 KiB at 1024 columns: resident in L2; in L3 at 7168) 64 times: the kernel's arithmetic ceiling,
    // without DRAM; if this is not far above the read bandwidth, the GEMV is compute-bound.
    const bench::ModelLikeWeights hot = bench::MakeModelLikeWeights(DType::kF8E4M3, 256, cols);
    report("fp8 64 x [256" + width + " cached (compute)", 64.0 * static_cast<double>(hot.bytes.size()), MedianSeconds(runs, [&] {
             for (int rep = 0; rep < 64; ++rep) kernels::Matmul(hot.view, x.data(), 1, y.data(), pool);
           }));
  }
  {
    const bench::ModelLikeWeights big = bench::MakeModelLikeWeights(DType::kF8E4M3, big_rows, cols);
    report("fp8 [" + std::to_string(big_rows) + width, static_cast<double>(big.bytes.size()),
           MedianSeconds(runs, [&] { kernels::Matmul(big.view, x.data(), 1, y.data(), pool); }));
  }
  {
    constexpr int64_t kExperts = 256, kRows = 256;
    const bench::ModelLikeWeights all = bench::MakeModelLikeWeights(DType::kF8E4M3, kExperts * kRows, cols);
    report("fp8 256 calls x [256" + width + " (experts)", static_cast<double>(all.bytes.size()), MedianSeconds(runs, [&] {
             for (int64_t e = 0; e < kExperts; ++e) kernels::Matmul(all.view.Rows(e * kRows, kRows), x.data(), 1, y.data(), pool);
           }));
    // The same matrices 16 to a kernels::MatmulMany call, as a MoE layer with 8 chosen experts runs their
    // gate and up products.
    constexpr int64_t kPerCall = 16;
    std::vector<kernels::WeightMatrix> views;
    for (int64_t e = 0; e < kExperts; ++e) views.push_back(all.view.Rows(e * kRows, kRows));
    std::vector<kernels::MatmulProduct> products;
    const auto many = [&](const float* xs, int64_t tokens, float* ys) {
      return MedianSeconds(runs, [&] {
        for (int64_t e = 0; e < kExperts; e += kPerCall) {
          products.clear();
          for (int64_t i = 0; i < kPerCall; ++i) products.push_back({&views[e + i], xs, tokens, ys + i * tokens * kRows});
          kernels::MatmulMany(products, pool);
        }
      });
    };
    report("fp8 16 calls x 16 x [256" + width + " (many)", static_cast<double>(all.bytes.size()), many(x.data(), 1, y.data()));
    // The same with 2 tokens per expert, as a batch-16 decode step spreads 16 x 8 picks over 64 experts.
    const std::vector<float> x2(2 * cols, 0.5f);
    std::vector<float> y2(2 * kPerCall * kRows);
    report("fp8 same, 2 tokens each", static_cast<double>(all.bytes.size()), many(x2.data(), 2, y2.data()));
  }
  for (const DType dtype : {DType::kF8E4M3, DType::kBF16}) {
    // 16 tokens (batch-16 decode) against one [256 x cols] matrix resident in cache, 64 times.
    constexpr int64_t kTokens = 16, kRows = 256, kReps = 64;
    const bench::ModelLikeWeights hot = bench::MakeModelLikeWeights(dtype, kRows, cols);
    const std::vector<float> xs(kTokens * cols, 0.5f);
    std::vector<float> ys(kTokens * kRows);
    const double secs = MedianSeconds(runs, [&] {
      for (int rep = 0; rep < kReps; ++rep) kernels::Matmul(hot.view, xs.data(), kTokens, ys.data(), pool);
    });
    report_flops((dtype == DType::kF8E4M3 ? "fp8" : "bf16") + std::string(" 16 tokens x [256") + width + " cached",
                 2.0 * kTokens * kRows * cols * kReps, secs);
  }
}
