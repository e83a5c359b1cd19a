// Decode steps on a checkpoint's mapped files against the same weights copied into memory (--no-mmap,
// model::WeightLoad::kInMemory), or against another copy of the checkpoint mapped (--other DIR --other-load
// mapped: e.g. the same shards with their headers padded otherwise), in one process, round after round in
// alternating order:
//   weight_load_bench --model DIR [--other DIR] [--other-load in-memory|mapped] [--threads N] [--batch B]
//                     [--context C] [--rounds R] [--steps S]
// Each round times S decode steps of B sequences (one new token each at position C) on either model; the
// ratio of the two is taken per round, so the slow and fast phases of a shared machine, which move a
// step by 10-30% between separate runs here (docs/performance.md), fall on both sides of it alike.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "model/model.h"

namespace {

using namespace sieve;
using Clock = std::chrono::steady_clock;

constexpr int64_t kBlockSize = 64;

struct Loaded {
  std::unique_ptr<model::Model> model;
  std::unique_ptr<model::PagedKvCache> cache;
  model::ForwardBatch step;
  double load_s = 0;
  size_t resident_bytes = 0;  // copied into memory (0: mapped)
};

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// B sequences with C cached tokens each (one prefill), and the decode step that appends one token to each.
Status Load(const std::string& dir, model::WeightLoad load, int threads, int64_t batch, int64_t context, Loaded* out) {
  const auto start = Clock::now();
  SIEVE_ASSIGN_OR_RETURN(auto ckpt, model::Checkpoint::Open(dir, load, /*with_mtp=*/false));
  out->resident_bytes = ckpt->ResidentBytes();
  SIEVE_ASSIGN_OR_RETURN(out->model, model::Model::Load(std::move(ckpt), {.num_threads = threads}));
  out->load_s = std::chrono::duration<double>(Clock::now() - start).count();
  const model::ModelConfig& c = out->model->config();
  const int64_t blocks = (context + 1 + kBlockSize - 1) / kBlockSize;
  out->cache = std::make_unique<model::PagedKvCache>(c, out->model->num_cache_layers(), batch * blocks, kBlockSize,
                                                     model::KvCacheDtype::kF32);
  model::ForwardBatch prefill;
  for (int64_t s = 0; s < batch; ++s) {
    model::SequenceChunk chunk, next;
    for (int64_t i = 0; i < context; ++i) chunk.token_ids.push_back(static_cast<int32_t>((s * 131 + i * 7919 + 2) % c.vocab_size));
    for (int64_t b = 0; b < blocks; ++b) chunk.block_table.push_back(static_cast<int32_t>(s * blocks + b));
    chunk.logits = model::SequenceChunk::Logits::kNone;
    next.token_ids = {static_cast<int32_t>((s + 5) % c.vocab_size)};
    next.start_pos = context;
    next.block_table = chunk.block_table;
    prefill.seqs.push_back(std::move(chunk));
    out->step.seqs.push_back(std::move(next));
  }
  model::ForwardOutput ignored;
  return out->model->Forward(prefill, *out->cache, &ignored);
}

// Seconds per step over `steps` decode steps (the same position rewritten each time: equal work).
double TimeSteps(Loaded& m, int steps) {
  model::ForwardOutput out;
  const auto start = Clock::now();
  for (int i = 0; i < steps; ++i)
    if (Status s = m.model->Forward(m.step, *m.cache, &out); !s.ok()) {
      std::fprintf(stderr, "weight_load_bench: %s\n", s.ToString().c_str());
      std::exit(1);
    }
  return std::chrono::duration<double>(Clock::now() - start).count() / steps;
}

}  // namespace

int main(int argc, char** argv) {
  std::string dir, other_dir, other_load = "in-memory";
  int threads = 0, rounds = 15, steps = 8;
  int64_t batch = 1, context = 16;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--model")) dir = argv[i + 1];
    else if (!std::strcmp(argv[i], "--other")) other_dir = argv[i + 1];
    else if (!std::strcmp(argv[i], "--other-load")) other_load = argv[i + 1];
    else if (!std::strcmp(argv[i], "--threads")) threads = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--batch")) batch = std::max(1, std::atoi(argv[i + 1]));
    else if (!std::strcmp(argv[i], "--context")) context = std::max(1, std::atoi(argv[i + 1]));
    else if (!std::strcmp(argv[i], "--rounds")) rounds = std::max(1, std::atoi(argv[i + 1]));
    else if (!std::strcmp(argv[i], "--steps")) steps = std::max(1, std::atoi(argv[i + 1]));
  }
  if (other_dir.empty()) other_dir = dir;
  if (other_load != "in-memory" && other_load != "mapped") {
    std::fprintf(stderr, "weight_load_bench: --other-load must be in-memory or mapped, not %s\n", other_load.c_str());
    return 1;
  }
  const model::WeightLoad second = other_load == "mapped" ? model::WeightLoad::kMapped : model::WeightLoad::kInMemory;
  Loaded mapped, copied;
  for (auto [d, load, m] : {std::tuple{dir, model::WeightLoad::kMapped, &mapped}, std::tuple{other_dir, second, &copied}})
    if (Status s = Load(d, load, threads, batch, context, m); !s.ok()) {
      std::fprintf(stderr, "weight_load_bench: %s\n", s.ToString().c_str());
      return 1;
    }
  TimeSteps(mapped, steps);  // warm-up: first touches of the mapping, the memos' scans
  TimeSteps(copied, steps);
  std::vector<double> mapped_s, copied_s, ratios;
  for (int r = 0; r < rounds; ++r) {
    const bool mapped_first = r % 2 == 0;
    const double a = mapped_first ? TimeSteps(mapped, steps) : 0;
    const double b = TimeSteps(copied, steps);
    const double a2 = mapped_first ? a : TimeSteps(mapped, steps);
    mapped_s.push_back(a2);
    copied_s.push_back(b);
    ratios.push_back(b / a2);
  }
  std::printf("batch %lld, context %lld, %d rounds x %d steps each\n", static_cast<long long>(batch),
              static_cast<long long>(context), rounds, steps);
  std::printf("%s, mapped: load %.2f s, median %.2f ms/step\n", dir.c_str(), mapped.load_s, 1e3 * Median(mapped_s));
  std::printf("%s, %s (%.2f GB copied): load %.2f s, median %.2f ms/step\n", other_dir.c_str(), other_load.c_str(),
              static_cast<double>(copied.resident_bytes) / 1e9, copied.load_s, 1e3 * Median(copied_s));
  std::sort(ratios.begin(), ratios.end());
  std::printf("second / first per round: median %.3f (range %.3f - %.3f)\n", ratios[ratios.size() / 2], ratios.front(),
              ratios.back());
  return 0;
}
