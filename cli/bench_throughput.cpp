// `sieve bench throughput`: vLLM's `vllm bench throughput` in-process on the random dataset
// (bench-serve.md §9): --num-prompts requests of --input-len ids and --output-len tokens (ignore_eos,
// temperature 1) all submitted at once; elapsed = wall time until the last finishes. vLLM's output line
// and JSON keys, then Sieve's roofline line: the time this machine's read bandwidth and FMA peak allow
// for the prefills and the decode steps the scheduler runs (at most --max-num-seqs sequences per step).
#include <fmt/format.h>

#include <cstdio>
#include <nlohmann/json.hpp>

#include "cli/bench_latency_roofline.h"
#include "cli/subcommands.h"
#include "parallel/mpi_runtime.h"

namespace sieve::cli {

namespace {

struct ThroughputArgs {
  OfflineBenchArgs bench;
  int64_t input_len = 1024;  // vLLM's random dataset defaults
  int64_t output_len = 128;
  int64_t num_prompts = 1000;
  std::string output_json;
};

// Limit for the whole run: every prompt's prefill, then waves of up to max_num_seqs sequences decoding
// output_len - 1 steps each (a lower bound: real schedules overlap prefills and decodes).
double RunLimitSeconds(const OfflineBench& b, const ThroughputArgs& a, int64_t max_num_seqs) {
  const model::ModelConfig& c = b.model->config();
  const bool dense = a.bench.dense_attention;
  const model::StepShape prefill{.num_seqs = 1, .new_tokens = a.input_len, .context_len = a.input_len,
                                 .kv_dtype = b.kv_dtype, .dense_attention = dense};
  double total = a.num_prompts * RooflineSeconds(b, model::CountStepCost(c, prefill, b.rank_share()));
  for (int64_t left = a.num_prompts; left > 0; left -= max_num_seqs) {
    const int64_t batch = std::min(left, max_num_seqs);
    for (int64_t j = 1; j < a.output_len; ++j)
      total += RooflineSeconds(b, model::CountStepCost(c,
                                                       {.num_seqs = batch, .new_tokens = 1, .context_len = a.input_len + j,
                                                        .kv_dtype = b.kv_dtype, .dense_attention = dense},
                                                       b.rank_share()));
  }
  return total;
}

int RunThroughput(const ThroughputArgs& a) {
  if (a.input_len < 1 || a.output_len < 1 || a.num_prompts < 1) {
    PrintError("--input-len, --output-len and --num-prompts must be >= 1");
    return 2;
  }
  OfflineBenchArgs bench = a.bench;
  if (bench.engine.max_model_len == 0) bench.engine.max_model_len = WholeBlocks(a.input_len + a.output_len, bench.engine);
  std::unique_ptr<ParallelSession> session;
  if (const std::optional<int> done = JoinOfflineBenchJob(bench, &session)) return *done;
  auto started = StartOfflineBench(bench, std::move(session));
  if (!started) return 1;  // StartOfflineBench printed why
  OfflineBench& b = *started;
  std::mt19937_64 rng(bench.engine.seed.value_or(0));
  const auto all_prompts = RandomPromptIds(a.num_prompts, a.input_len, b.model->config().vocab_size, rng);
  // With DP, replica d takes prompts d, d + D, d + 2D, ... (each its own engine); the run lasts as long as
  // the slowest replica.
  const parallel::ParallelLayout& layout = b.session->layout();
  std::vector<std::vector<int32_t>> prompts;
  for (int64_t i = layout.dp_rank; i < a.num_prompts; i += layout.dp_size) prompts.push_back(all_prompts[i]);
  double first_tokens_s = 0;
  auto mine = RunToCompletion(*b.engine, prompts, 1, a.output_len, "tput", &first_tokens_s);
  if (!mine.ok()) {
    PrintError(mine.status().message());
    return 1;
  }
  // The engine's thread agrees every step with the other replicas over the leaders' group: it must be
  // stopped (which waits for every replica to finish) before this thread uses that group.
  b.engine->Shutdown();
  auto elapsed = SlowestReplica(b, *mine);
  if (!elapsed.ok()) parallel::AbortJob(elapsed.status());
  if (!b.session->is_root()) return FinishOfflineBench(b, "", {});
  const int64_t prompt_tokens = a.num_prompts * a.input_len, output_tokens = a.num_prompts * a.output_len;
  const int64_t total_tokens = prompt_tokens + output_tokens;
  std::printf("%s\n", fmt::format("Throughput: {:.2f} requests/s, {:.2f} total tokens/s, {:.2f} output tokens/s",
                                  a.num_prompts / *elapsed, total_tokens / *elapsed, output_tokens / *elapsed)
                          .c_str());
  std::printf("Total num prompt tokens:  %ld\nTotal num output tokens:  %ld\n", static_cast<long>(prompt_tokens),
              static_cast<long>(output_tokens));
  const double limit_s = RunLimitSeconds(b, a, bench.engine.max_num_seqs);
  PrintMachineLimits(b);
  std::printf("Roofline: limit %.3f s for %ld prefills + decode waves of <= %ld sequences; elapsed %.3f s = %.1f%% of the roofline\n",
              limit_s, static_cast<long>(a.num_prompts), static_cast<long>(bench.engine.max_num_seqs), *elapsed,
              100 * limit_s / *elapsed);
  const nlohmann::json results = {{"elapsed_time", *elapsed},
                                 {"num_requests", a.num_prompts},
                                 {"total_num_tokens", total_tokens},
                                 {"requests_per_second", a.num_prompts / *elapsed},
                                 {"tokens_per_second", total_tokens / *elapsed},
                                 {"read_bandwidth_bytes_per_s", b.read_bytes_per_s},
                                 {"fma_peak_flops_per_s", b.fma_flops_per_s},
                                 {"roofline_fraction", limit_s / *elapsed}};
  return FinishOfflineBench(b, a.output_json, results);
}

void RegisterBenchThroughput(CLI::App& app, int* exit_code) {
  CLI::App* bench = SubcommandGroup(app, "bench", "Benchmarks: serve (HTTP), latency and throughput (in-process)");
  auto* cmd = bench->add_subcommand("throughput", "Offline throughput, in-process (like vllm bench throughput)");
  auto a = std::make_shared<ThroughputArgs>();
  AddOfflineBenchFlags(*cmd, &a->bench);
  cmd->add_option("--input-len", a->input_len, "Prompt tokens per request")->capture_default_str();
  cmd->add_option("--output-len", a->output_len, "Generated tokens per request")->capture_default_str();
  cmd->add_option("--num-prompts", a->num_prompts, "Requests, all submitted at once")->capture_default_str();
  cmd->add_option("--output-json", a->output_json, "Write the throughput results here");
  cmd->callback([a, exit_code] { *exit_code = RunThroughput(*a); });
}

}  // namespace

SIEVE_SUBCOMMAND(RegisterBenchThroughput);

}  // namespace sieve::cli
