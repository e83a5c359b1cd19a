// Absorbed sparse MLA attention of one decode query alone (kernels/sparse_mla_attention.h), against the
// FMA peak measured in the same run: the `small` preset's 16 heads (--heads: 128 for the real models;
// kv_lora_rank 512, rope 64) over K
// gathered keys in each of 8 layers, the heads split over the pool as MlaAttention::AttendAbsorbed splits
// them (one run of heads per thread). K = index_topk = 2,048 is a DSA step's attention at any context
// beyond it; 1,025 is a dense step at 1K context. Every layer reads the same key buffer (4.5 MiB at 2,048
// keys), as a step's gather writes each layer's keys into one scratch buffer just before it attends, so
// they come from the caches rather than DRAM: this measures the kernel, not the gather.
//   sparse_attention_bench [--threads N] [--runs 9] [--heads 16] [--keys 1025,2048]
// Prints per key count: median and best ms per step (8 layers), GFLOP/s (2 per multiply-add of the scores
// and the weighted sum) and the fraction of the FMA peak.
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <functional>
#include <numeric>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "bench/timed_runs.h"
#include "kernels/machine_limits.h"
#include "kernels/sparse_mla_attention.h"
#include "kernels/thread_pool.h"

namespace {

using namespace sieve;
constexpr int64_t kLayers = 8, kLatent = 512, kRope = 64;

}  // namespace

int main(int argc, char** argv) {
  int threads = 0, runs = 9;
  int64_t heads = 16;  // the `small` preset's; the real models have 128
  std::vector<int64_t> key_counts = {1025, 2048};
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--threads")) {
      threads = std::atoi(argv[i + 1]);
    } else if (!std::strcmp(argv[i], "--heads")) {
      heads = std::max(1, std::atoi(argv[i + 1]));
    } else if (!std::strcmp(argv[i], "--runs")) {
      runs = std::max(1, std::atoi(argv[i + 1]));
    } else if (!std::strcmp(argv[i], "--keys")) {
      key_counts.clear();
      std::stringstream list(argv[i + 1]);
      for (std::string item; std::getline(list, item, ',');) key_counts.push_back(std::max(1, std::atoi(item.c_str())));
    } else {
      std::fprintf(stderr, "sparse_attention_bench: unknown flag %s\n", argv[i]);
      return 2;
    }
  }
  if (threads <= 0) threads = kernels::ThreadPool::DefaultThreadCount();
  kernels::ThreadPool pool(threads);
  const double peak = kernels::MeasureFmaPeak(pool, 2'000'000, 5).best;
  std::printf("FMA peak %.1f GFLOP/s (%d threads); %ld heads, latent %ld + rope %ld, %ld layers\n", peak / 1e9, threads,
              static_cast<long>(heads), static_cast<long>(kLatent), static_cast<long>(kRope),
              static_cast<long>(kLayers));
  std::mt19937 rng(1);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> q_latent(heads * kLatent), q_rope(heads * kRope), out(heads * kLatent);
  for (auto* v : {&q_latent, &q_rope})
    for (float& f : *v) f = normal(rng);
  for (const int64_t keys : key_counts) {
    std::vector<float> latents(keys * kLatent), ropes(keys * kRope);
    for (auto* v : {&latents, &ropes})
      for (float& f : *v) f = normal(rng);
    std::vector<int32_t> selected(keys);
    std::iota(selected.begin(), selected.end(), 0);  // the gathered buffer's rows in order, as a decode step has them
    const int64_t heads_per_chunk = std::max<int64_t>(1, heads / pool.num_threads());
    const bench::RunTimes t = bench::TimeRuns(runs, [&] {
      for (int64_t l = 0; l < kLayers; ++l) {
        const kernels::LatentCache cache{latents.data(), ropes.data(), kLatent, kRope};
        pool.ParallelFor(heads, [&](int64_t h0, int64_t h1) {
          std::vector<float> scores(keys * (h1 - h0));
          kernels::SparseMlaHeads({.q_latent = &q_latent[h0 * kLatent], .q_rope = &q_rope[h0 * kRope],
                                   .q_rope_stride = kRope, .out = &out[h0 * kLatent], .count = h1 - h0},
                                  cache, selected.data(), keys, 0.1f, scores.data());
        }, heads_per_chunk);
      }
    });
    const double flops = 2.0 * heads * keys * (2 * kLatent + kRope) * kLayers;
    std::printf("%5ld keys  median %7.3f ms  best %7.3f ms  %7.1f GFLOP/s  %5.1f%% of FMA peak\n",
                static_cast<long>(keys), 1e3 * t.median, 1e3 * t.best, flops / t.median / 1e9,
                100.0 * flops / t.median / peak);
  }
  return 0;
}
