// `sieve generate --model DIR (--prompt TEXT | --prompt-ids 1,2,3) --max-tokens N [--temperature T]
// [--seed S] [--json] [--threads N] [--ignore-eos] [--kv-cache-dtype auto|bf16|fp8] [--numerics fp32]`:
// one sequence through the model directly (prefill, then one decode step per token through the paged KV
// cache). Prints the continuation on stdout (text when DIR has a tokenizer.json, then the ids), tokens/s
// on stderr; --json prints {"ids": [...], "text": "..."} ("text" only with a tokenizer).
// Under mpirun with --tensor-parallel-size/--tp, --data-parallel-size/--dp or --enable-expert-parallel/--ep
// every rank computes its share of each step (docs/parallelism.md); rank 0 samples, shares the token and
// prints. DP replicas each run the same prompt (the routed experts are summed over the whole world).
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "cli/no_mmap_flag.h"
#include "cli/parallel_session.h"
#include "cli/subcommands.h"
#include "model/model.h"
#include "parallel/parallel_flags.h"
#include "text/tokenizer.h"

namespace sieve::cli {

namespace {

struct GenerateArgs {
  std::string model_dir;
  std::string prompt;
  std::string prompt_ids;
  int64_t max_tokens = 16;
  double temperature = 0.0;
  uint64_t seed = 0;
  bool json = false;
  int threads = 0;
  bool no_mmap = false;
  bool ignore_eos = false;
  std::string kv_cache_dtype = "auto";
  std::string numerics = "fp32";
  parallel::ParallelConfig parallel;
};

StatusOr<std::vector<int32_t>> ParseIds(const std::string& text) {
  std::vector<int32_t> ids;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) {
    try {
      size_t used = 0;
      const long v = std::stol(item, &used);
      if (used != item.size() || v < 0 || v > INT32_MAX) throw std::invalid_argument(item);
      ids.push_back(static_cast<int32_t>(v));
    } catch (const std::exception&) {
      return Status::InvalidArgument("--prompt-ids: '" + item + "' is not a token id");
    }
  }
  if (ids.empty()) return Status::InvalidArgument("--prompt-ids: no ids");
  return ids;
}

// Greedy at temperature 0, else a draw from softmax(logits / T).
int32_t Sample(const float* logits, int64_t vocab, double temperature, std::mt19937_64& rng) {
  if (temperature <= 0.0) return static_cast<int32_t>(std::max_element(logits, logits + vocab) - logits);
  const float mx = *std::max_element(logits, logits + vocab);
  std::vector<double> p(vocab);
  for (int64_t i = 0; i < vocab; ++i) p[i] = std::exp((logits[i] - mx) / temperature);
  std::discrete_distribution<int32_t> pick(p.begin(), p.end());
  return pick(rng);
}

// Runs the command; returns the exit code (1 runtime, 2 usage).
int RunGenerate(const GenerateArgs& a) {
  namespace fs = std::filesystem;
  std::unique_ptr<ParallelSession> session_ptr;
  const Status started = ParallelSession::Start(a.parallel, &session_ptr);
  const ParallelSession& session = *session_ptr;
  // Every rank meets the same errors (same flags and files), so rank 0 alone reports them.
  auto report = [&](const std::string& message) {
    if (session.is_root()) PrintError(message);
  };
  if (!started.ok()) {
    report(started.message());
    return 2;
  }
  if (Status s = CheckNoMmapLayout(a.no_mmap, session.layout()); !s.ok()) {
    report(s.message());
    return 2;
  }
  if (a.prompt.empty() == a.prompt_ids.empty()) {
    report("give exactly one of --prompt and --prompt-ids");
    return 2;
  }
  std::vector<int32_t> prompt;
  if (!a.prompt_ids.empty()) {
    auto ids = ParseIds(a.prompt_ids);
    if (!ids.ok()) {
      report(ids.status().message());
      return 2;
    }
    prompt = *ids;
  }
  auto ckpt = model::Checkpoint::Open(a.model_dir, WeightLoadFor(a.no_mmap), /*with_mtp=*/false);
  if (!ckpt.ok()) {
    report(ckpt.status().message());
    return 1;
  }
  const model::ModelConfig config = (*ckpt)->config();
  std::unique_ptr<text::Tokenizer> tokenizer;
  const fs::path tokenizer_path = fs::path(a.model_dir) / "tokenizer.json";
  if (fs::exists(tokenizer_path)) {
    auto t = text::Tokenizer::Load(tokenizer_path.string());
    if (!t.ok()) {
      report(t.status().message());
      return 1;
    }
    tokenizer = std::move(t).value();
  }
  if (!a.prompt.empty()) {
    if (!tokenizer) {
      report(a.model_dir + ": no tokenizer.json; use --prompt-ids");
      return 1;
    }
    prompt = {static_cast<int32_t>(config.bos_token_id)};  // raw completion: BOS + text, as the reference
    for (int32_t id : tokenizer->Encode(a.prompt)) prompt.push_back(id);
  }
  for (int32_t id : prompt)
    if (id >= config.vocab_size) {
      report("prompt token id " + std::to_string(id) + " >= the model's vocab_size " + std::to_string(config.vocab_size));
      return 2;
    }
  if (a.max_tokens < 1 || static_cast<int64_t>(prompt.size()) + a.max_tokens > config.max_position_embeddings) {
    report("--max-tokens must be >= 1 and prompt + max-tokens <= max_position_embeddings (" +
               std::to_string(config.max_position_embeddings) + ")");
    return 2;
  }
  auto kv_dtype = model::ParseKvCacheDtype(a.kv_cache_dtype);
  if (!kv_dtype.ok()) {
    report(kv_dtype.status().message());
    return 2;
  }
  model::ModelOptions options{.num_threads = a.threads};
  session.Configure(&options);
  auto loaded = model::Model::Load(std::move(ckpt).value(), options);
  if (!loaded.ok()) {
    report(loaded.status().message());
    return 1;
  }
  model::Model& m = **loaded;
  constexpr int64_t kBlockSize = 64;
  const int64_t total = static_cast<int64_t>(prompt.size()) + a.max_tokens;
  const int64_t blocks = (total + kBlockSize - 1) / kBlockSize;
  model::PagedKvCache cache(config, m.num_cache_layers(), blocks, kBlockSize, *kv_dtype);
  const double cache_bytes = static_cast<double>(blocks * kBlockSize) *
                             static_cast<double>(model::PagedKvCache::BytesPerToken(config, m.num_cache_layers(), *kv_dtype));
  if (Status s = session.ReportMemory(config, /*with_mtp=*/false, cache_bytes); !s.ok()) parallel::AbortJob(s);
  model::ForwardBatch batch;
  batch.seqs.resize(1);
  model::SequenceChunk& chunk = batch.seqs[0];
  chunk.token_ids = prompt;
  for (int64_t b = 0; b < blocks; ++b) chunk.block_table.push_back(static_cast<int32_t>(b));

  std::mt19937_64 rng(a.seed);
  std::vector<int32_t> out_ids;
  using Clock = std::chrono::steady_clock;
  double prefill_s = 0, decode_s = 0;
  while (static_cast<int64_t>(out_ids.size()) < a.max_tokens) {
    const auto t0 = Clock::now();
    model::ForwardOutput out;
    if (Status s = m.Forward(batch, cache, &out); !s.ok()) {
      report(s.message());
      return 1;
    }
    (out_ids.empty() ? prefill_s : decode_s) += std::chrono::duration<double>(Clock::now() - t0).count();
    int32_t next = session.is_root() ? Sample(out.logits.ptr(), config.vocab_size, a.temperature, rng) : 0;
    if (Status s = session.ShareToken(&next); !s.ok()) parallel::AbortJob(s);
    out_ids.push_back(next);
    if (next == config.eos_token_id && !a.ignore_eos) break;
    chunk.start_pos += static_cast<int64_t>(chunk.token_ids.size());
    chunk.token_ids = {next};
  }
  if (!session.is_root()) return 0;
  const std::string text = tokenizer ? tokenizer->Decode(out_ids, /*skip_special_tokens=*/true) : "";
  if (a.json) {
    nlohmann::json j = {{"ids", out_ids}};
    if (tokenizer) j["text"] = text;
    std::printf("%s\n", j.dump().c_str());
  } else {
    if (tokenizer) std::printf("%s\n", text.c_str());
    std::string ids;
    for (int32_t id : out_ids) ids += (ids.empty() ? "" : " ") + std::to_string(id);
    std::printf("%s\n", ids.c_str());
  }
  const int64_t decoded = static_cast<int64_t>(out_ids.size()) - 1;
  std::fprintf(stderr, "prefill: %zu tokens, %.1f tokens/s; decode: %ld tokens, %.1f tokens/s\n", prompt.size(),
               prompt.size() / std::max(prefill_s, 1e-9), static_cast<long>(decoded), decoded / std::max(decode_s, 1e-9));
  return 0;
}

void RegisterGenerate(CLI::App& app, int* exit_code) {
  auto* cmd = app.add_subcommand("generate", "Generate a continuation of one prompt (greedy by default)");
  auto a = std::make_shared<GenerateArgs>();
  cmd->add_option("--model", a->model_dir, "Checkpoint folder")->required();
  cmd->add_option("--prompt", a->prompt, "Prompt text (needs tokenizer.json in the model folder)");
  cmd->add_option("--prompt-ids", a->prompt_ids, "Prompt token ids, comma-separated (no BOS added)");
  cmd->add_option("--max-tokens", a->max_tokens, "Tokens to generate")->capture_default_str();
  cmd->add_option("--temperature", a->temperature, "0: greedy")->capture_default_str()->check(CLI::NonNegativeNumber);
  cmd->add_option("--seed", a->seed, "Sampling seed")->capture_default_str();
  cmd->add_flag("--json", a->json, "Print {\"ids\": [...], \"text\": \"...\"}");
  cmd->add_option("--threads", a->threads, "Threads (0: all cores)")->capture_default_str();
  AddNoMmapFlag(*cmd, &a->no_mmap);
  cmd->add_flag("--ignore-eos", a->ignore_eos, "Keep generating after the EOS token");
  cmd->add_option("--kv-cache-dtype", a->kv_cache_dtype, "auto (fp32), bf16 or fp8")->capture_default_str();
  // fp32 activations and accumulation (matches the fp32 goldens); the only mode so far.
  cmd->add_option("--numerics", a->numerics, "Activation numerics")->capture_default_str()->check(CLI::IsMember({"fp32"}));
  parallel::AddParallelFlags(*cmd, &a->parallel);
  cmd->callback([a, exit_code] { *exit_code = RunGenerate(*a); });
}

}  // namespace

SIEVE_SUBCOMMAND(RegisterGenerate);

}  // namespace sieve::cli
