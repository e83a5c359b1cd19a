// `sieve bench latency`: vLLM's `vllm bench latency` in-process (bench-serve.md §9): one batch of
// --batch-size random prompts of --input-len ids, --output-len tokens each (ignore_eos, temperature 1),
// --num-iters-warmup unmeasured then --num-iters timed runs; vLLM's output lines and --output-json keys.
// Then Sieve's roofline lines: the prefill and the decode steps as fractions of the time this machine's
// read bandwidth and FMA peak (measured in the same run) allow for the bytes and FLOPs they need.
#include <fmt/format.h>

#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "cli/bench_latency_roofline.h"
#include "cli/subcommands.h"
#include "clients/serve_metrics.h"
#include "model/step_communication.h"

namespace sieve::cli {

namespace {

struct LatencyArgs {
  OfflineBenchArgs bench;
  int64_t input_len = 32;
  int64_t output_len = 128;
  int64_t batch_size = 8;
  int n = 1;
  int num_iters_warmup = 10;
  int num_iters = 30;
  std::string output_json;
};

// The roofline of one run: prefill of the whole batch, then output_len - 1 decode steps whose context grows.
struct RunRoofline {
  model::StepCost prefill, decode_mean;
  double prefill_s = 0, decode_s = 0;  // limits
};

RunRoofline CountRun(const OfflineBench& b, const LatencyArgs& a) {
  const model::ModelConfig& c = b.model->config();
  const bool dense = a.bench.dense_attention;
  RunRoofline r;
  r.prefill = model::CountStepCost(c,
                                   {.num_seqs = a.batch_size, .new_tokens = a.input_len, .context_len = a.input_len,
                                    .kv_dtype = b.kv_dtype, .dense_attention = dense},
                                   b.rank_share());
  r.prefill_s = RooflineSeconds(b, r.prefill);
  const int64_t steps = a.output_len - 1;
  for (int64_t j = 1; j <= steps; ++j) {
    const model::StepCost s = model::CountStepCost(
        c,
        {.num_seqs = a.batch_size * a.n, .new_tokens = 1, .context_len = a.input_len + j, .kv_dtype = b.kv_dtype,
         .dense_attention = dense},
        b.rank_share());
    r.decode_s += RooflineSeconds(b, s);
    r.decode_mean.weight_bytes += s.weight_bytes / steps;
    r.decode_mean.kv_bytes += s.kv_bytes / steps;
    r.decode_mean.flops += s.flops / steps;
  }
  return r;
}

// Under mpirun: what rank 0 all-reduced in the last run next to the analytic count
// (model/step_communication.h): the prefill, then output_len - 1 decode steps whose context grows.
void PrintCommunication(const OfflineBench& b, const LatencyArgs& a) {
  const model::ModelConfig& c = b.model->config();
  const parallel::ParallelLayout& layout = b.session->layout();
  const bool dense = a.bench.dense_attention;
  const double prefill = model::CountAllReduceBytes(
      c, layout, {.num_seqs = a.batch_size, .new_tokens = a.input_len, .context_len = a.input_len, .dense_attention = dense});
  double decode = 0;
  for (int64_t j = 1; j < a.output_len; ++j)
    decode += model::CountAllReduceBytes(
        c, layout, {.num_seqs = a.batch_size * a.n, .new_tokens = 1, .context_len = a.input_len + j, .dense_attention = dense});
  std::printf("Communication (rank 0, last run, %s): all-reduced %ld bytes; analytic %.0f bytes (prefill %.0f + "
              "%ld decode steps %.0f, %.0f bytes per decode step)\n",
              layout.Describe().c_str(), static_cast<long>(b.session->all_reduce_bytes()), prefill + decode, prefill,
              static_cast<long>(a.output_len - 1), decode, a.output_len > 1 ? decode / (a.output_len - 1) : 0.0);
}

int RunLatency(const LatencyArgs& a) {
  if (a.input_len < 1 || a.output_len < 1 || a.batch_size < 1 || a.n < 1 || a.num_iters < 1 || a.num_iters_warmup < 0) {
    PrintError("--input-len, --output-len, --batch-size, --n and --num-iters must be >= 1, --num-iters-warmup >= 0");
    return 2;
  }
  OfflineBenchArgs bench = a.bench;
  bench.engine.max_num_seqs = a.batch_size * a.n;  // the whole batch runs at once; no idle KV cache
  if (bench.engine.max_model_len == 0) bench.engine.max_model_len = WholeBlocks(a.input_len + a.output_len, bench.engine);
  bench.engine.enable_prefix_caching = false;  // vLLM's latency bench turns it off too
  std::unique_ptr<ParallelSession> session;
  if (const std::optional<int> done = JoinOfflineBenchJob(bench, &session)) return *done;
  auto started = StartOfflineBench(bench, std::move(session));
  if (!started) return 1;  // StartOfflineBench printed why
  OfflineBench& b = *started;
  std::mt19937_64 rng(0);
  const auto prompts = RandomPromptIds(a.batch_size, a.input_len, b.model->config().vocab_size, rng);
  std::vector<double> latencies, prefills;
  for (int i = 0; i < a.num_iters_warmup + a.num_iters; ++i) {
    if (b.session && i + 1 == a.num_iters_warmup + a.num_iters) b.session->ResetCommunicationCounts();  // the last run
    double prefill_s = 0;
    auto seconds = RunToCompletion(*b.engine, prompts, a.n, a.output_len, fmt::format("lat{}", i), &prefill_s);
    if (!seconds.ok()) {
      PrintError(seconds.status().message());
      return 1;
    }
    if (i < a.num_iters_warmup) continue;
    latencies.push_back(*seconds);
    prefills.push_back(prefill_s);
  }
  // With DP every replica ran the same batches at once (their MoE steps shared); rank 0 reports its own.
  if (!b.session->is_root()) return FinishOfflineBench(b, "", {});
  double mean = 0, var = 0;
  for (double l : latencies) mean += l / latencies.size();
  for (double l : latencies) var += (l - mean) * (l - mean) / latencies.size();
  std::printf("%s\n", fmt::format("Avg latency: {} seconds", mean).c_str());
  std::printf("%s\n", fmt::format("Std latency: {} seconds", std::sqrt(var)).c_str());
  nlohmann::json percentiles = nlohmann::json::object();
  for (int p : {10, 25, 50, 75, 90, 99}) {
    const double v = clients::Percentile(latencies, p);
    std::printf("%s\n", fmt::format("{}% percentile latency: {} seconds", p, v).c_str());
    percentiles[std::to_string(p)] = v;
  }

  // Roofline, from the medians: the prefill (until every choice has its first token) and the decode steps.
  const RunRoofline r = CountRun(b, a);
  const double prefill_s = clients::Percentile(prefills, 50);
  const double decode_s = clients::Percentile(latencies, 50) - prefill_s;
  const int64_t steps = a.output_len - 1;
  PrintMachineLimits(b);
  std::printf("Prefill: %ld x %ld tokens, %.2f GFLOP, %.3f GB -> limit %.2f ms; median %.2f ms = %.1f%% of the roofline\n",
              static_cast<long>(a.batch_size), static_cast<long>(a.input_len), r.prefill.flops / 1e9,
              r.prefill.bytes() / 1e9, 1e3 * r.prefill_s, 1e3 * prefill_s, 100 * r.prefill_s / prefill_s);
  if (steps > 0)
    std::printf("Decode: batch %ld, %.4f GB/step (weights %.4f + KV %.4f), %.3f GFLOP/step -> limit %.2f ms/step; "
                "median %.2f ms/step (%.2f tokens/s) = %.1f%% of the roofline\n",
                static_cast<long>(a.batch_size * a.n), r.decode_mean.bytes() / 1e9, r.decode_mean.weight_bytes / 1e9,
                r.decode_mean.kv_bytes / 1e9, r.decode_mean.flops / 1e9, 1e3 * r.decode_s / steps,
                1e3 * decode_s / steps, a.batch_size * a.n * steps / decode_s, 100 * r.decode_s / decode_s);
  if (b.session && b.session->layout().world_size > 1) PrintCommunication(b, a);
  const nlohmann::json results = {{"avg_latency", mean},
                                 {"std_latency", std::sqrt(var)},
                                 {"latencies", latencies},
                                 {"percentiles", percentiles},
                                 {"read_bandwidth_bytes_per_s", b.read_bytes_per_s},
                                 {"fma_peak_flops_per_s", b.fma_flops_per_s},
                                 {"prefill_roofline_fraction", r.prefill_s / prefill_s},
                                 {"decode_roofline_fraction", steps > 0 ? r.decode_s / decode_s : 0.0}};
  return FinishOfflineBench(b, a.output_json, results);
}

void RegisterBenchLatency(CLI::App& app, int* exit_code) {
  CLI::App* bench = SubcommandGroup(app, "bench", "Benchmarks: serve (HTTP), latency and throughput (in-process)");
  auto* cmd = bench->add_subcommand("latency", "Latency of one batch, in-process (like vllm bench latency)");
  auto a = std::make_shared<LatencyArgs>();
  AddOfflineBenchFlags(*cmd, &a->bench);
  cmd->add_option("--input-len", a->input_len, "Prompt tokens per request")->capture_default_str();
  cmd->add_option("--output-len", a->output_len, "Generated tokens per request")->capture_default_str();
  cmd->add_option("--batch-size", a->batch_size, "Requests in the batch")->capture_default_str();
  cmd->add_option("--n", a->n, "Choices per request")->capture_default_str();
  cmd->add_option("--num-iters-warmup", a->num_iters_warmup, "Unmeasured runs first")->capture_default_str();
  cmd->add_option("--num-iters", a->num_iters, "Measured runs")->capture_default_str();
  cmd->add_option("--output-json", a->output_json, "Write the latencies and percentiles here");
  cmd->callback([a, exit_code] { *exit_code = RunLatency(*a); });
}

}  // namespace

SIEVE_SUBCOMMAND(RegisterBenchLatency);

}  // namespace sieve::cli
