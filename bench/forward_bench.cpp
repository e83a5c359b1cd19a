// Prefill and decode throughput of the CPU forward pass (tokens/s), on a checkpoint folder:
//   forward_bench --model DIR [--threads N] [benchmark flags]
// DIR defaults to ../shared/fixtures/tiny-dsv32-a/checkpoint; the issue-4 numbers use the `small` preset
// (`sieve make-checkpoint --preset small --out DIR`). Prefill: one sequence of N new tokens. Decode: one
// token at a context of N cached tokens (the same position is rewritten each iteration, so every
// iteration does the same work).
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "model/model.h"

namespace {

using namespace sieve;

// The source tree's sibling ../shared (CMake compiles with absolute paths, so __FILE__ locates it).
std::string g_model_dir =
    (std::filesystem::path(__FILE__).parent_path().parent_path().parent_path() / "shared/fixtures/tiny-dsv32-a/checkpoint").string();
int g_threads = 0;
std::unique_ptr<model::Model> g_model;

constexpr int64_t kBlockSize = 64;

model::SequenceChunk Chunk(std::vector<int32_t> ids, int64_t start_pos, int64_t blocks) {
  model::SequenceChunk c;
  c.token_ids = std::move(ids);
  c.start_pos = start_pos;
  for (int64_t b = 0; b < blocks; ++b) c.block_table.push_back(static_cast<int32_t>(b));
  return c;
}

std::vector<int32_t> Tokens(int64_t n, int64_t vocab) {
  std::vector<int32_t> ids(n);
  for (int64_t i = 0; i < n; ++i) ids[i] = static_cast<int32_t>((i * 7919 + 2) % vocab);
  return ids;
}

void BM_Prefill(benchmark::State& state) {
  const int64_t n = state.range(0);
  const model::ModelConfig& c = g_model->config();
  const int64_t blocks = (n + kBlockSize - 1) / kBlockSize;
  model::PagedKvCache cache(c, g_model->num_cache_layers(), blocks, kBlockSize, model::KvCacheDtype::kF32);
  model::ForwardBatch batch;
  batch.seqs.push_back(Chunk(Tokens(n, c.vocab_size), 0, blocks));
  for (auto _ : state) {
    model::ForwardOutput out;
    if (!g_model->Forward(batch, cache, &out).ok()) state.SkipWithError("forward failed");
    benchmark::DoNotOptimize(out.logits.data.data());
  }
  state.counters["tokens/s"] = benchmark::Counter(static_cast<double>(n), benchmark::Counter::kIsIterationInvariantRate);
}

void BM_Decode(benchmark::State& state) {
  const int64_t context = state.range(0);
  const model::ModelConfig& c = g_model->config();
  const int64_t blocks = (context + 1 + kBlockSize - 1) / kBlockSize;
  model::PagedKvCache cache(c, g_model->num_cache_layers(), blocks, kBlockSize, model::KvCacheDtype::kF32);
  model::ForwardBatch prefill;
  prefill.seqs.push_back(Chunk(Tokens(context, c.vocab_size), 0, blocks));
  prefill.seqs[0].logits = model::SequenceChunk::Logits::kNone;
  model::ForwardOutput out;
  if (!g_model->Forward(prefill, cache, &out).ok()) state.SkipWithError("prefill failed");
  model::ForwardBatch step;
  step.seqs.push_back(Chunk({5}, context, blocks));
  for (auto _ : state) {
    if (!g_model->Forward(step, cache, &out).ok()) state.SkipWithError("decode failed");
    benchmark::DoNotOptimize(out.logits.data.data());
  }
  state.counters["tokens/s"] = benchmark::Counter(1.0, benchmark::Counter::kIsIterationInvariantRate);
}

BENCHMARK(BM_Prefill)->Arg(16)->Arg(128)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_Decode)->Arg(16)->Arg(512)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

int main(int argc, char** argv) {
  // Our flags first; the rest goes to Google Benchmark.
  std::vector<char*> rest = {argv[0]};
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--model") == 0 && i + 1 < argc) g_model_dir = argv[++i];
    else if (std::strcmp(argv[i], "--threads") == 0 && i + 1 < argc) g_threads = std::atoi(argv[++i]);
    else rest.push_back(argv[i]);
  }
  auto ckpt = sieve::model::Checkpoint::Open(g_model_dir);
  if (!ckpt.ok()) {
    std::fprintf(stderr, "forward_bench: %s\n", ckpt.status().ToString().c_str());
    return 1;
  }
  auto m = sieve::model::Model::Load(std::move(ckpt).value(), {.num_threads = g_threads});
  if (!m.ok()) {
    std::fprintf(stderr, "forward_bench: %s\n", m.status().ToString().c_str());
    return 1;
  }
  g_model = std::move(m).value();
  int rest_argc = static_cast<int>(rest.size());
  benchmark::Initialize(&rest_argc, rest.data());
  benchmark::RunSpecifiedBenchmarks();
  g_model.reset();
  return 0;
}
