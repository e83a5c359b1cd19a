// The lightning indexer's scores alone (kernels/index_score.h), against the FMA peak (fp32 keys, and fp8
// keys on the FMA kernel) or the bf16 dot-instruction peak (fp8 keys on that kernel, where the CPU has
// AVX512-BF16) measured in the same run: one decode query (64 heads x 128) against L keys in each of 8 layers of a real PagedKvCache of the
// `small` preset's geometry (the keys read in place, as Indexer::Select does), for the fp32 and fp8 KV
// dtypes, and the same fp32 keys from a contiguous buffer (the layout the old copy path scored).
//   index_score_bench [--threads N] [--runs 7] [--context 32768]
// Prints per layout: median and best ms per step (8 layers), GFLOP/s and the fraction of its peak.
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "bench/timed_runs.h"
#include "kernels/index_score.h"
#include "kernels/machine_limits.h"
#include "model/paged_kv_cache.h"

namespace {

using namespace sieve;
constexpr int64_t kLayers = 8, kHeads = 64, kHeadDim = 128, kBlockSize = 64;

}  // namespace

int main(int argc, char** argv) {
  int threads = 0, runs = 7;
  int64_t context = 32768;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--threads")) threads = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--runs")) runs = std::max(1, std::atoi(argv[i + 1]));
    else if (!std::strcmp(argv[i], "--context")) context = std::max(1, std::atoi(argv[i + 1]));
    else {
      std::fprintf(stderr, "index_score_bench: unknown flag %s\n", argv[i]);
      return 2;
    }
  }
  if (threads <= 0) threads = kernels::ThreadPool::DefaultThreadCount();
  kernels::ThreadPool pool(threads);
  const double peak = kernels::MeasureFmaPeak(pool, 2'000'000, 5).best;
  const double dot_peak = kernels::MeasureBf16DotPeak(pool, 2'000'000, 5).best;
  std::printf("FMA peak %.1f GFLOP/s, bf16 dot peak %.1f GFLOP/s (%d threads); %ld keys x %ld layers, %ld heads x %ld\n",
              peak / 1e9, dot_peak / 1e9, threads,
              static_cast<long>(context), static_cast<long>(kLayers), static_cast<long>(kHeads),
              static_cast<long>(kHeadDim));
  model::ModelConfig c;  // the `small` preset's cache geometry
  c.kv_lora_rank = 512;
  c.qk_rope_head_dim = 64;
  c.index_n_heads = kHeads;
  c.index_head_dim = kHeadDim;
  std::mt19937 rng(1);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> q(kHeads * kHeadDim), w(kHeads), keys(kLayers * context * kHeadDim), scores(context);
  for (auto* v : {&q, &w, &keys})
    for (float& f : *v) f = normal(rng);
  const double flops = 2.0 * kHeads * kHeadDim * context * kLayers;
  auto report = [&](const char* name, bench::RunTimes t, bool bf16_dot) {
    const double limit = bf16_dot ? dot_peak : peak;
    std::printf("%-22s median %8.2f ms  best %8.2f ms  %7.1f GFLOP/s  %5.1f%% of %s peak\n", name, 1e3 * t.median,
                1e3 * t.best, flops / t.median / 1e9, 100.0 * flops / t.median / limit, bf16_dot ? "bf16 dot" : "FMA");
  };
  // Scores every layer's keys over the pool, as a decode step splits them.
  auto score_layers = [&](const std::function<kernels::IndexKeyRows(int64_t layer)>& rows_of) {
    for (int64_t l = 0; l < kLayers; ++l) {
      const kernels::IndexKeyRows rows = rows_of(l);
      pool.ParallelFor(context, [&](int64_t k0, int64_t k1) {
        kernels::IndexScores(q.data(), w.data(), kHeads, kHeadDim, rows, k0, k1, scores.data() + k0);
      }, /*grain=*/256);
    }
  };

  std::vector<const uint8_t*> contiguous(kLayers);
  for (int64_t l = 0; l < kLayers; ++l) contiguous[l] = reinterpret_cast<const uint8_t*>(&keys[l * context * kHeadDim]);
  report("fp32, contiguous", bench::TimeRuns(runs, [&] {
    score_layers([&](int64_t l) {
      return kernels::IndexKeyRows{&contiguous[l], context, {kernels::IndexKeyType::kF32, kHeadDim * 4, 0}};
    });
  }), false);
  const int64_t n_blocks = (context + kBlockSize - 1) / kBlockSize;
  std::vector<float> latent(c.kv_lora_rank), rope(c.qk_rope_head_dim);
  for (const auto dtype : {model::KvCacheDtype::kF32, model::KvCacheDtype::kFP8}) {
    model::PagedKvCache cache(c, kLayers, n_blocks, kBlockSize, dtype);
    for (int64_t l = 0; l < kLayers; ++l)
      for (int64_t p = 0; p < context; ++p)
        cache.Write(l, p / kBlockSize, p % kBlockSize, latent.data(), rope.data(), &keys[(l * context + p) * kHeadDim]);
    std::vector<const uint8_t*> blocks(n_blocks);
    const auto run = [&] {
      score_layers([&](int64_t l) {
        for (int64_t b = 0; b < n_blocks; ++b) blocks[b] = cache.IndexKeys(l, b);
        return kernels::IndexKeyRows{blocks.data(), kBlockSize, cache.IndexKeyFormat()};
      });
    };
    if (dtype == model::KvCacheDtype::kF32) {
      report("fp32, in the KV cache", bench::TimeRuns(runs, run), false);
      continue;
    }
    // fp8 keys: each kernel (same bits) against its own limit; kAuto picks the faster (machine_limits.h).
    if (dot_peak > 0) {
      kernels::SetFp8IndexKernel(kernels::Fp8IndexKernel::kBf16Dot);
      report("fp8, bf16 dot kernel", bench::TimeRuns(runs, run), true);
    }
    kernels::SetFp8IndexKernel(kernels::Fp8IndexKernel::kFma);
    report("fp8, FMA kernel", bench::TimeRuns(runs, run), false);
    kernels::SetFp8IndexKernel(kernels::Fp8IndexKernel::kAuto);
    std::printf("fp8 keys run the %s kernel here\n", dot_peak > 0 && kernels::Bf16DotOutrunsFma() ? "bf16 dot" : "FMA");
  }
  return 0;
}
