// Decode cost at long context, with DSA and with dense attention forced, without running the prompt:
// the paged KV cache of one sequence is filled with random entries for positions 0..L-1 (unit-RMS
// latents and keys, like the normalised ones the model writes), then one decode token at position L is
// timed (median of --runs). Prefilling 32K tokens on a small CPU would take far longer than the decode
// it sets up, and the decode's cost does not depend on what the cached numbers are.
//   long_context_bench --model DIR [--threads N] [--runs 5] [--contexts 1024,32768] [--kv-cache-dtype fp8]
//                      [--modes dsa,dense]   (dsa alone: a profile of the DSA steps without the slow dense ones)
// Prints per context and mode: median ms/step, the step's bytes (model/step_cost.h), the read-bandwidth
// roofline (kernels/machine_limits.h, measured in the same run), the ratio to the first context, and the
// phase limit: the bytes at the read bandwidth plus the indexer's FLOPs at its kernel's peak (the bf16 dot
// instruction's with fp8 keys where it outruns FMAs, else the FMA peak), with its own ratio to the first
// context. A step runs them one after the other (a layer's indexer needs its query and the projections
// after it wait for its selection), so no step of this code can beat their sum; only one that streamed
// later weights while the indexer computes could.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "kernels/machine_limits.h"
#include "model/model.h"
#include "model/step_cost.h"

namespace {

using namespace sieve;
using Clock = std::chrono::steady_clock;
constexpr int64_t kBlockSize = 64;

// Fills positions [0, context) of every cache layer with N(0, 1) entries.
void FillCache(model::PagedKvCache& cache, const model::ModelConfig& c, int64_t context) {
  std::mt19937 rng(1);
  std::normal_distribution<float> d(0.0f, 1.0f);
  std::vector<float> latent(c.kv_lora_rank), rope(c.qk_rope_head_dim), index(std::max<int64_t>(1, c.index_head_dim));
  for (int64_t p = 0; p < context; ++p)
    for (int64_t l = 0; l < cache.num_layers(); ++l) {
      for (auto* v : {&latent, &rope, &index})
        for (float& x : *v) x = d(rng);
      cache.Write(l, p / kBlockSize, p % kBlockSize, latent.data(), rope.data(), c.has_indexer() ? index.data() : nullptr);
    }
}

double MedianDecodeSeconds(model::Model& m, model::PagedKvCache& cache, int64_t context, int runs) {
  model::ForwardBatch batch;
  batch.seqs.resize(1);
  batch.seqs[0].token_ids = {7};
  batch.seqs[0].start_pos = context;
  for (int64_t b = 0; b < cache.num_blocks(); ++b) batch.seqs[0].block_table.push_back(static_cast<int32_t>(b));
  std::vector<double> t;
  for (int r = 0; r < runs + 1; ++r) {  // the first run warms the caches and is dropped
    model::ForwardOutput out;
    const auto start = Clock::now();
    if (!m.Forward(batch, cache, &out).ok()) return -1;
    if (r > 0) t.push_back(std::chrono::duration<double>(Clock::now() - start).count());
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  std::string dir, contexts_arg = "1024,32768", kv = "auto", modes = "dsa,dense";
  int threads = 0, runs = 5;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--model")) dir = argv[i + 1];
    else if (!std::strcmp(argv[i], "--threads")) threads = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--runs")) runs = std::max(1, std::atoi(argv[i + 1]));
    else if (!std::strcmp(argv[i], "--contexts")) contexts_arg = argv[i + 1];
    else if (!std::strcmp(argv[i], "--kv-cache-dtype")) kv = argv[i + 1];
    else if (!std::strcmp(argv[i], "--modes")) modes = argv[i + 1];
    else {
      std::fprintf(stderr, "long_context_bench: unknown flag %s\n", argv[i]);
      return 2;
    }
  }
  std::vector<int64_t> contexts;
  std::stringstream ss(contexts_arg);
  for (std::string item; std::getline(ss, item, ',');) contexts.push_back(std::stoll(item));
  std::vector<bool> dense_modes;
  std::stringstream ms(modes);
  for (std::string item; std::getline(ms, item, ',');) {
    if (item != "dsa" && item != "dense") {
      std::fprintf(stderr, "long_context_bench: --modes takes dsa and/or dense, not %s\n", item.c_str());
      return 2;
    }
    dense_modes.push_back(item == "dense");
  }
  auto kv_dtype = model::ParseKvCacheDtype(kv);
  auto ckpt = model::Checkpoint::Open(dir);
  if (dir.empty() || !ckpt.ok() || !kv_dtype.ok()) {
    std::fprintf(stderr, "long_context_bench: --model DIR with a checkpoint is required (%s)\n",
                 ckpt.ok() ? kv_dtype.status().ToString().c_str() : ckpt.status().ToString().c_str());
    return 1;
  }
  std::shared_ptr<const model::Checkpoint> shared = std::move(ckpt).value();
  const model::ModelConfig& c = shared->config();
  if (threads <= 0) threads = kernels::ThreadPool::DefaultThreadCount();
  double bandwidth = 0, index_peak = 0;
  {
    kernels::ThreadPool pool(threads);
    bandwidth = kernels::MeasureReadBandwidth(pool, int64_t{1} << 30, 5).best;
    const bool dot_kernel = *kv_dtype == model::KvCacheDtype::kFP8 && kernels::Bf16DotOutrunsFma();
    index_peak = dot_kernel ? kernels::MeasureBf16DotPeak(pool, 2'000'000, 5).best
                            : kernels::MeasureFmaPeak(pool, 2'000'000, 5).best;
    std::printf("read bandwidth %.2f GB/s, indexer peak %.1f GFLOP/s (%s, %d threads); kv cache %s\n",
                bandwidth / 1e9, index_peak / 1e9, dot_kernel ? "bf16 dot" : "fp32 FMA", threads, kv.c_str());
  }
  std::printf("%-6s %8s %12s %12s %12s %10s %14s %10s\n", "mode", "context", "ms/step", "GB/step", "limit ms",
              "vs first", "phase limit ms", "vs first");
  for (const bool dense : dense_modes) {
    auto m = model::Model::Load(shared, {.num_threads = threads, .dense_attention = dense});
    if (!m.ok()) return 1;
    double first = 0, first_phase = 0;
    for (int64_t context : contexts) {
      const int64_t blocks = (context + 1 + kBlockSize - 1) / kBlockSize;
      model::PagedKvCache cache(c, (*m)->num_cache_layers(), blocks, kBlockSize, *kv_dtype);
      FillCache(cache, c, context);
      const double s = MedianDecodeSeconds(**m, cache, context, runs);
      const model::StepCost cost = model::CountStepCost(
          c, {.new_tokens = 1, .context_len = context + 1, .kv_dtype = *kv_dtype, .dense_attention = dense});
      const double phase = cost.bytes() / bandwidth + cost.indexer_flops / index_peak;
      if (first == 0) first = s;
      if (first_phase == 0) first_phase = phase;
      std::printf("%-6s %8ld %12.2f %12.4f %12.2f %9.2fx %14.2f %9.2fx\n", dense ? "dense" : "dsa",
                  static_cast<long>(context), 1e3 * s, cost.bytes() / 1e9, 1e3 * cost.bytes() / bandwidth, s / first,
                  1e3 * phase, phase / first_phase);
      std::fflush(stdout);
    }
  }
  return 0;
}
