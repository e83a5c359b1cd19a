// Engine decode throughput at batch 1, 4, 16, 64: B greedy requests with short prompts each generate
// --decode-tokens tokens (64) through the full engine (scheduler, paged KV cache, sampler, step thread), so a
// step decodes B sequences at once and reads the weights once. Reports tokens/s and the cost of one step;
// a batched step costing far less than B single steps is the point of continuous batching.
//   engine_bench --model DIR [--threads N] [--decode-tokens N] [benchmark flags]
// DIR defaults to ../shared/fixtures/tiny-dsv32-a/checkpoint; the issue-6 numbers use the `small` preset
// (`sieve make-checkpoint --preset small --out DIR`).
#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "model/model.h"

namespace {

using namespace sieve;

std::string g_model_dir =
    (std::filesystem::path(__FILE__).parent_path().parent_path().parent_path() / "shared/fixtures/tiny-dsv32-a/checkpoint").string();
int g_threads = 0;
std::shared_ptr<model::Model> g_model;

constexpr int kPromptTokens = 4;  // short, so that the run is almost all decode steps
int g_decode_tokens = 64;         // steps per iteration: 1 prefill step + the rest decode steps

// Submits `batch` requests and blocks until all have finished (condition variable, no polling).
void GenerateBatch(engine::Engine& e, int batch, int round) {
  std::mutex mu;
  std::condition_variable done;
  int finished = 0;
  const int64_t vocab = g_model->config().vocab_size;
  for (int i = 0; i < batch; ++i) {
    engine::GenerationRequest r;
    r.request_id = fmt::format("r{}-{}", round, i);
    for (int t = 0; t < kPromptTokens; ++t) r.prompt_ids.push_back(static_cast<int32_t>(2 + (i * 131 + t * 17) % (vocab - 2)));
    r.params.temperature = 0;
    r.params.max_tokens = g_decode_tokens;
    r.params.ignore_eos = true;
    Status s = e.Submit(std::move(r), [&](const engine::RequestOutput& o) {
      if (!o.finished) return;
      std::lock_guard<std::mutex> lock(mu);
      ++finished;
      done.notify_one();
    });
    if (!s.ok()) std::fprintf(stderr, "submit failed: %s\n", s.ToString().c_str());
  }
  std::unique_lock<std::mutex> lock(mu);
  done.wait(lock, [&] { return finished == batch; });
}

void BM_EngineDecode(benchmark::State& state) {
  const int batch = static_cast<int>(state.range(0));
  engine::EngineOptions options;
  options.max_num_seqs = batch;
  options.max_model_len = kPromptTokens + g_decode_tokens + 1;
  options.kv_cache_memory_gib = 1.0;  // capped at what max_num_seqs x max_model_len can use
  options.enable_prefix_caching = false;
  auto e = engine::Engine::Create(g_model, nullptr, options);
  if (!e.ok()) {
    state.SkipWithError(e.status().ToString().c_str());
    return;
  }
  double seconds = 0;
  int round = 0;
  for (auto _ : state) {
    const auto start = std::chrono::steady_clock::now();
    GenerateBatch(**e, batch, round++);
    seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }
  const double steps = double(state.iterations()) * g_decode_tokens;
  state.counters["tokens/s"] = double(batch) * steps / seconds;
  state.counters["step_ms"] = 1000.0 * seconds / steps;
  state.counters["step_ms_per_seq"] = 1000.0 * seconds / steps / batch;
}
BENCHMARK(BM_EngineDecode)->Arg(1)->Arg(4)->Arg(16)->Arg(64)->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace

int main(int argc, char** argv) {
  // Our flags first; the rest go to Google Benchmark.
  std::vector<char*> rest = {argv[0]};
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--model") && i + 1 < argc) {
      g_model_dir = argv[++i];
    } else if (!std::strcmp(argv[i], "--decode-tokens") && i + 1 < argc) {
      g_decode_tokens = std::max(1, std::atoi(argv[++i]));
    } else if (!std::strcmp(argv[i], "--threads") && i + 1 < argc) {
      g_threads = std::atoi(argv[++i]);
    } else {
      rest.push_back(argv[i]);
    }
  }
  auto ckpt = model::Checkpoint::Open(g_model_dir);
  if (!ckpt.ok()) {
    std::fprintf(stderr, "engine_bench: %s\n", ckpt.status().ToString().c_str());
    return 1;
  }
  model::ModelOptions options;
  options.num_threads = g_threads;
  auto m = model::Model::Load(std::shared_ptr<const model::Checkpoint>(std::move(ckpt).value()), options);
  if (!m.ok()) {
    std::fprintf(stderr, "engine_bench: %s\n", m.status().ToString().c_str());
    return 1;
  }
  g_model = std::move(m).value();
  int rest_argc = static_cast<int>(rest.size());
  benchmark::Initialize(&rest_argc, rest.data());
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
