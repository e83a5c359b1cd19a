// Tokenizer throughput (MB/s of UTF-8 input) on a mixed English / Chinese / code corpus, plus decode,
// streaming detokenization and tokenizer.json load time. Run: build/bench/tokenizer_bench
// [--benchmark_repetitions=5]. Uses $SIEVE_TOKENIZER or the vendored assets/tokenizer/tokenizer.json.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "text/incremental_detokenizer.h"
#include "text/tokenizer.h"

namespace sieve::text {
namespace {

std::string TokenizerPath() {
  if (const char* env = std::getenv("SIEVE_TOKENIZER")) return env;
  return (std::filesystem::path(__FILE__).parent_path().parent_path() / "assets/tokenizer/tokenizer.json").string();
}

const Tokenizer& Shared() {
  static const std::unique_ptr<Tokenizer> tokenizer = [] {
    auto t = Tokenizer::Load(TokenizerPath());
    if (!t.ok()) {
      std::fprintf(stderr, "%s\n", t.status().ToString().c_str());
      std::exit(1);
    }
    return std::move(*t);
  }();
  return *tokenizer;
}

// About 1 MiB: equal parts prose, Chinese and C++ code, interleaved the way chat traffic mixes them.
const std::string& Corpus() {
  static const std::string corpus = [] {
    const std::string english =
        "The scheduler admits a request when its prompt fits in the free KV-cache blocks; otherwise it waits. "
        "Decoding then proceeds one token per step, and the server streams each new piece of text to the "
        "client as soon as it forms complete characters. Numbers like 3.14159, 2048 and 1,000,000 appear too.\n";
    const std::string chinese =
        "模型在每一步只生成一个词元，服务器把新文本立即流式发送给客户端。稀疏注意力通过索引器挑选最相关的"
        "两千零四十八个位置，从而在长上下文中保持较低的计算量。今天天气很好，我们去公园散步吧！\n";
    const std::string code =
        "for (size_t i = 0; i < n; ++i) {\n  const float x = in[i] * scale;  // dequantize\n"
        "  out[i] = x > 0.0f ? x : 0.01f * x;\n}\nif (!status.ok()) return status.WithParam(\"messages[2]\");\n";
    std::string s;
    while (s.size() < (1u << 20)) s += english + chinese + code;
    return s;
  }();
  return corpus;
}

void BM_Encode(benchmark::State& state) {
  const Tokenizer& tok = Shared();
  const std::string& text = Corpus();
  size_t tokens = 0;
  for (auto _ : state) {
    auto ids = tok.Encode(text);
    tokens = ids.size();
    benchmark::DoNotOptimize(ids.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
  state.counters["bytes_per_token"] = static_cast<double>(text.size()) / tokens;
}
BENCHMARK(BM_Encode)->Unit(benchmark::kMillisecond);

void BM_Decode(benchmark::State& state) {
  const Tokenizer& tok = Shared();
  const std::vector<int32_t> ids = tok.Encode(Corpus());
  for (auto _ : state) benchmark::DoNotOptimize(tok.Decode(ids, true));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * Corpus().size()));
}
BENCHMARK(BM_Decode)->Unit(benchmark::kMillisecond);

void BM_StreamingDetokenize(benchmark::State& state) {
  const Tokenizer& tok = Shared();
  const std::vector<int32_t> ids = tok.Encode(Corpus());
  for (auto _ : state) {
    IncrementalDetokenizer detok(tok, true);
    size_t n = 0;
    for (int32_t id : ids) n += detok.Push(id).size();
    benchmark::DoNotOptimize(n);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * Corpus().size()));
}
BENCHMARK(BM_StreamingDetokenize)->Unit(benchmark::kMillisecond);

void BM_LoadTokenizerJson(benchmark::State& state) {
  const std::string path = TokenizerPath();
  for (auto _ : state) {
    auto t = Tokenizer::Load(path);
    if (!t.ok()) state.SkipWithError(t.status().message().c_str());
    benchmark::DoNotOptimize(t);
  }
}
BENCHMARK(BM_LoadTokenizerJson)->Unit(benchmark::kMillisecond)->Iterations(3);

}  // namespace
}  // namespace sieve::text

BENCHMARK_MAIN();
