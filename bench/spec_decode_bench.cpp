// Speculative decoding's step costs at batch 1 (issue 10): one plain decode step (1 token), one verify
// step (K + 1 tokens, every row's logits and hidden, as the engine runs it) and one MTP draft step
// (1 token), each at a context of --context cached tokens, median of --reps interleaved rounds. With random weights
// the acceptance is meaningless, so it prints the speed-up the costs imply at mean acceptance lengths
// tau (tokens emitted per step, accepted drafts + 1):
//   speed-up(K, tau) = tau * T_decode / (T_verify(K) + K * T_draft)
// (each step runs K MTP forwards: K - 1 drafts, then the one that caches the accepted positions and drafts
// the next step's first token).
//   spec_decode_bench --model DIR [--threads N] [--context N] [--reps N] [--max-k K]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "model/model.h"

namespace {

using namespace sieve;

constexpr int64_t kBlockSize = 64;

// Runs every step kind once per round, rounds interleaved, and returns each kind's median in ms:
// load from other processes then hits all kinds alike instead of whichever ran during a busy spell.
std::vector<double> InterleavedMediansMs(int reps, const std::vector<std::function<void()>>& steps) {
  std::vector<std::vector<double>> ms(steps.size());
  for (const auto& step : steps) step();  // warm-up
  for (int r = 0; r < reps; ++r)
    for (size_t i = 0; i < steps.size(); ++i) {
      const auto t0 = std::chrono::steady_clock::now();
      steps[i]();
      ms[i].push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    }
  std::vector<double> medians;
  for (auto& m : ms) {
    std::sort(m.begin(), m.end());
    medians.push_back(m[m.size() / 2]);
  }
  return medians;
}

model::SequenceChunk Chunk(int64_t n, int64_t start_pos, int64_t blocks, int64_t vocab) {
  model::SequenceChunk c;
  for (int64_t i = 0; i < n; ++i) c.token_ids.push_back(static_cast<int32_t>((i * 7919 + start_pos + 2) % vocab));
  c.start_pos = start_pos;
  for (int64_t b = 0; b < blocks; ++b) c.block_table.push_back(static_cast<int32_t>(b));
  return c;
}

}  // namespace

int main(int argc, char** argv) {
  std::string dir;
  int threads = 0, reps = 7, max_k = 4;
  int64_t context = 512;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--model") == 0) dir = argv[i + 1];
    else if (std::strcmp(argv[i], "--threads") == 0) threads = std::atoi(argv[i + 1]);
    else if (std::strcmp(argv[i], "--context") == 0) context = std::atoll(argv[i + 1]);
    else if (std::strcmp(argv[i], "--reps") == 0) reps = std::atoi(argv[i + 1]);
    else if (std::strcmp(argv[i], "--max-k") == 0) max_k = std::atoi(argv[i + 1]);
  }
  if (dir.empty() || reps < 1 || context < 1 || max_k < 1) {
    std::fprintf(stderr, "usage: spec_decode_bench --model DIR [--threads N] [--context N] [--reps N] [--max-k K]\n");
    return 2;
  }
  auto ckpt = model::Checkpoint::Open(dir);
  if (!ckpt.ok()) {
    std::fprintf(stderr, "spec_decode_bench: %s\n", ckpt.status().ToString().c_str());
    return 1;
  }
  auto loaded = model::Model::Load(std::move(ckpt).value(), {.num_threads = threads, .enable_mtp = true});
  if (!loaded.ok()) {
    std::fprintf(stderr, "spec_decode_bench: %s\n", loaded.status().ToString().c_str());
    return 1;
  }
  model::Model& m = **loaded;
  const model::ModelConfig& c = m.config();
  const int64_t blocks = (context + max_k + 1 + kBlockSize - 1) / kBlockSize;
  model::PagedKvCache cache(c, m.num_cache_layers(), blocks, kBlockSize, model::KvCacheDtype::kF32);
  model::ForwardOutput out;
  bool ok = true;
  auto run = [&](const model::ForwardBatch& batch) { ok = ok && m.Forward(batch, cache, &out).ok(); };

  model::ForwardBatch prefill;
  prefill.seqs.push_back(Chunk(context, 0, blocks, c.vocab_size));
  prefill.all_hidden = true;
  run(prefill);
  const Tensor prompt_hidden = out.all_hidden;  // [context, hidden]: the MTP layer's cache for the context
  model::ForwardBatch mtp_prefill;
  mtp_prefill.seqs.push_back(Chunk(context, 0, blocks, c.vocab_size));
  model::ForwardOutput mtp_out;
  ok = ok && m.ForwardMtp(mtp_prefill, prompt_hidden, cache, &mtp_out).ok();

  model::ForwardBatch decode;
  decode.seqs.push_back(Chunk(1, context, blocks, c.vocab_size));
  model::ForwardBatch draft;
  draft.seqs.push_back(Chunk(1, context, blocks, c.vocab_size));
  Tensor draft_hidden({1, c.hidden_size});
  std::copy_n(prompt_hidden.ptr() + (context - 1) * c.hidden_size, c.hidden_size, draft_hidden.ptr());
  std::vector<model::ForwardBatch> verify(max_k);
  for (int k = 1; k <= max_k; ++k) {
    verify[k - 1].seqs.push_back(Chunk(k + 1, context, blocks, c.vocab_size));
    verify[k - 1].seqs[0].logits = model::SequenceChunk::Logits::kAll;
    verify[k - 1].all_hidden = true;
  }
  std::vector<std::function<void()>> steps = {
      [&] { run(decode); }, [&] { ok = ok && m.ForwardMtp(draft, draft_hidden, cache, &mtp_out).ok(); }};
  for (int k = 1; k <= max_k; ++k) steps.push_back([&, k] { run(verify[k - 1]); });
  const std::vector<double> t = InterleavedMediansMs(reps, steps);
  const double t_decode = t[0], t_draft = t[1];

  std::printf("context %lld, %d threads, median of %d interleaved rounds\n", static_cast<long long>(context), threads, reps);
  std::printf("plain decode step (1 token):  %8.2f ms\n", t_decode);
  std::printf("MTP draft step (1 token):     %8.2f ms\n", t_draft);
  std::printf("%-3s %12s %12s %10s %16s %16s %16s\n", "K", "verify ms", "step ms", "verify/dec", "speed-up @1.5",
              "speed-up @2.5", "speed-up @3.5");
  for (int k = 1; k <= max_k; ++k) {
    const double t_verify = t[k + 1];
    const double t_step = t_verify + k * t_draft;
    std::printf("%-3d %12.2f %12.2f %10.2f", k, t_verify, t_step, t_verify / t_decode);
    for (double tau : {1.5, 2.5, 3.5}) {
      if (tau <= k + 1) std::printf(" %16.2f", tau * t_decode / t_step);
      else std::printf(" %16s", "-");  // more than K + 1 tokens per step is impossible
    }
    std::printf("\n");
  }
  if (!ok) {
    std::fprintf(stderr, "spec_decode_bench: a forward step failed\n");
    return 1;
  }
  return 0;
}
