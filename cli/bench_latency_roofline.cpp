// Shared pieces of the offline benchmarks (see bench_latency_roofline.h).
#include "cli/bench_latency_roofline.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <set>

#include "cli/no_mmap_flag.h"
#include "cli/serve_lock_step.h"
#include "cli/subcommands.h"
#include "engine/engine_flags.h"
#include "kernels/machine_limits.h"
#include "kernels/thread_pool.h"
#include "parallel/parallel_flags.h"

namespace sieve::cli {

using Clock = std::chrono::steady_clock;

void AddOfflineBenchFlags(CLI::App& cmd, OfflineBenchArgs* a) {
  cmd.add_option("--model", a->model_dir, "Checkpoint folder")->required();
  cmd.add_option("--threads", a->threads, "Model threads, pinned one per core (0: one per physical core)")
      ->capture_default_str();
  AddNoMmapFlag(cmd, &a->no_mmap);
  cmd.add_flag("--dense-attention", a->dense_attention,
               "Attend to every cached token (ignore the DSA indexer), to measure what DSA saves");
  cmd.add_option("--probe-mib", a->probe_mib, "Buffer of the read-bandwidth probe in MiB (far above the caches)")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{16}, int64_t{1} << 20));
  engine::AddEngineFlags(cmd, &a->engine);
  parallel::AddParallelFlags(cmd, &a->parallel);
}

int64_t WholeBlocks(int64_t tokens, const engine::EngineOptions& options) {
  const int64_t block = std::max<int64_t>(1, options.block_size);
  return (tokens + block - 1) / block * block;
}

namespace {

model::ModelOptions BenchModelOptions(const OfflineBenchArgs& a, const ParallelSession& session) {
  model::ModelOptions options{.num_threads = a.threads > 0 ? a.threads : kernels::ThreadPool::DefaultThreadCount(),
                              .dense_attention = a.dense_attention};
  session.Configure(&options);
  return options;
}

Status LoadAndStart(const OfflineBenchArgs& a, OfflineBench& b) {
  b.threads = a.threads > 0 ? a.threads : kernels::ThreadPool::DefaultThreadCount();
  SIEVE_ASSIGN_OR_RETURN(b.kv_dtype, model::ParseKvCacheDtype(a.engine.kv_cache_dtype));
  const auto start = Clock::now();
  const model::ModelOptions model_options = BenchModelOptions(a, *b.session);
  SIEVE_ASSIGN_OR_RETURN(auto ckpt,
                         model::Checkpoint::Open(a.model_dir, WeightLoadFor(a.no_mmap), model_options.enable_mtp));
  SIEVE_ASSIGN_OR_RETURN(auto m, model::Model::Load(std::move(ckpt), model_options));
  b.load_s = std::chrono::duration<double>(Clock::now() - start).count();
  b.model = std::move(m);
  if (b.session->layout().world_size > 1) {
    SIEVE_ASSIGN_OR_RETURN(b.shard, model::ModelShard::Create(b.model->config(), b.session->layout()));
  }
  if (b.session->control() != nullptr) {
    b.lock_step = std::make_shared<engine::LockStepModel>(b.model, *b.session->control());
    b.model = b.lock_step;
  }
  {
    // The probes run on their own pool of the same size, pinned the same way, before the engine starts.
    kernels::ThreadPool pool(b.threads);
    b.read_bytes_per_s = kernels::MeasureReadBandwidth(pool, a.probe_mib << 20, 5).best;
    b.fma_flops_per_s = kernels::MeasureFmaPeak(pool, 2'000'000, 5).best;
  }
  if (b.session->replica_leaders() != nullptr) {
    // Every replica runs the benchmark to its end, so none needs telling to stop.
    b.replicas = std::make_unique<engine::ReplicaSync>(*b.session->replica_leaders(), [] {});
  }
  SIEVE_ASSIGN_OR_RETURN(b.engine, engine::Engine::Create(b.model, nullptr, a.engine, b.replicas.get()));
  return Status::Ok();
}

}  // namespace

std::optional<int> JoinOfflineBenchJob(const OfflineBenchArgs& a, std::unique_ptr<ParallelSession>* session) {
  const Status started = ParallelSession::Start(a.parallel, session);
  const bool root = (*session)->is_root();
  if (!started.ok()) {
    if (root) PrintError(started.message());
    return 2;
  }
  if (Status s = CheckNoMmapLayout(a.no_mmap, (*session)->layout()); !s.ok()) {
    if (root) PrintError(s.message());
    return 2;
  }
  if ((*session)->is_replica_leader()) return std::nullopt;
  return RunServeFollower(a.model_dir, WeightLoadFor(a.no_mmap), BenchModelOptions(a, **session), **session);
}

std::optional<OfflineBench> StartOfflineBench(const OfflineBenchArgs& a, std::unique_ptr<ParallelSession> session) {
  OfflineBench b;
  b.session = std::move(session);
  if (Status started = LoadAndStart(a, b); !started.ok()) {
    PrintError(started.message());
    // The followers still wait for the geometry, not for commands: release them that way (before this
    // session's MPI_Finalize, which waits for theirs).
    b.lock_step.reset();
    if (Status shared = ShareKvGeometry(*b.session, std::nullopt); !shared.ok()) parallel::AbortJob(shared);
    return std::nullopt;
  }
  const engine::EngineStats stats = b.engine->Stats();
  const KvGeometry geometry{.num_blocks = stats.kv_blocks_total,
                            .block_size = stats.kv_token_capacity / stats.kv_blocks_total,
                            .dtype = b.kv_dtype};
  if (Status shared = ShareKvGeometry(*b.session, geometry, b.model.get()); !shared.ok()) parallel::AbortJob(shared);
  if (b.replicas) b.replicas->Open();  // the followers are ready for step commands
  return b;
}

OfflineBench::~OfflineBench() {
  if (!lock_step) return;
  engine->Shutdown();  // no model call can follow the stop
  if (Status s = lock_step->StopFollowers(); !s.ok()) parallel::AbortJob(s);
}

std::vector<std::vector<int32_t>> RandomPromptIds(int64_t count, int64_t len, int64_t vocab, std::mt19937_64& rng) {
  std::uniform_int_distribution<int32_t> id(0, static_cast<int32_t>(std::min<int64_t>(10000, vocab) - 1));
  std::vector<std::vector<int32_t>> prompts(count);
  for (auto& p : prompts)
    for (int64_t i = 0; i < len; ++i) p.push_back(id(rng));
  return prompts;
}

StatusOr<double> RunToCompletion(engine::Engine& e, const std::vector<std::vector<int32_t>>& prompts, int n,
                                 int64_t output_len, const std::string& id_prefix, double* first_tokens_s) {
  std::mutex mu;
  std::condition_variable done;
  const int64_t choices = static_cast<int64_t>(prompts.size()) * n;
  int64_t finished = 0;
  std::set<std::pair<std::string, int>> started;
  Clock::time_point last_first_token;
  const auto start = Clock::now();
  for (size_t i = 0; i < prompts.size(); ++i) {
    engine::GenerationRequest r;
    r.request_id = fmt::format("{}-{}", id_prefix, i);
    r.prompt_ids = prompts[i];
    r.params.n = n;
    r.params.temperature = 1.0;
    r.params.top_p = 1.0;
    r.params.ignore_eos = true;
    r.params.max_tokens = static_cast<int>(output_len);
    const Status s = e.Submit(std::move(r), [&](const engine::RequestOutput& o) {
      std::lock_guard<std::mutex> lock(mu);
      if (!o.new_token_ids.empty() && started.insert({o.request_id, o.index}).second) last_first_token = Clock::now();
      if (o.finished && ++finished == choices) done.notify_one();
    });
    if (!s.ok()) {
      e.Shutdown();  // the callbacks above refer to this frame: stop them before returning
      return s;
    }
  }
  std::unique_lock<std::mutex> lock(mu);
  done.wait(lock, [&] { return finished == choices; });
  *first_tokens_s = std::chrono::duration<double>(last_first_token - start).count();
  return std::chrono::duration<double>(Clock::now() - start).count();
}

double RooflineSeconds(const OfflineBench& b, const model::StepCost& cost) {
  return std::max(cost.bytes() / b.read_bytes_per_s, cost.flops / b.fma_flops_per_s);
}

void PrintMachineLimits(const OfflineBench& b) {
  std::printf("Machine limits (%d threads, measured in this run): read %.2f GB/s, FP32 FMA %.1f GFLOP/s; "
              "model load %.2f s%s\n",
              b.threads, b.read_bytes_per_s / 1e9, b.fma_flops_per_s / 1e9, b.load_s,
              b.shard ? "; the lines below count rank 0's share of the model" : "");
}

StatusOr<double> SlowestReplica(const OfflineBench& b, double seconds) {
  parallel::Communicator* leaders = b.session->replica_leaders();
  if (leaders == nullptr) return seconds;
  const float mine = static_cast<float>(seconds);
  std::vector<float> all(static_cast<size_t>(leaders->size()));
  SIEVE_RETURN_IF_ERROR(leaders->AllGather({&mine, 1}, all));
  return static_cast<double>(*std::max_element(all.begin(), all.end()));
}

int FinishOfflineBench(OfflineBench& b, const std::string& output_json, const nlohmann::json& results) {
  int exit_code = 0;
  if (!output_json.empty() && b.session->is_root()) {
    std::ofstream f(output_json);
    f << results.dump(4) << "\n";
    if (!f) {
      PrintError("cannot write " + output_json);
      exit_code = 1;
    }
  }
  b.engine->Shutdown();
  return exit_code;
}

}  // namespace sieve::cli
