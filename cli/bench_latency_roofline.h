// What `sieve bench latency` and `sieve bench throughput` share: the in-process engine on a model folder,
// vLLM's random prompts, the machine limits measured in the same run, and Sieve's roofline line (a speed
// as a fraction of what this machine's read bandwidth / FMA peak allow; docs/performance.md).
#pragma once

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <cstdint>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "core/status.h"
#include "cli/parallel_session.h"
#include "engine/engine.h"
#include "engine/lock_step_model.h"
#include "engine/replica_sync.h"
#include "model/model.h"
#include "model/step_cost.h"

namespace sieve::cli {

struct OfflineBenchArgs {
  std::string model_dir;
  int threads = 0;               // 0: one per physical core
  bool no_mmap = false;          // copy the weights into memory (model::WeightLoad::kInMemory)
  bool dense_attention = false;  // ignore the DSA indexer (to show what it saves)
  int64_t probe_mib = 1024;      // read-bandwidth probe buffer
  engine::EngineOptions engine;
  parallel::ParallelConfig parallel;
};

// Adds --model, --threads, --no-mmap, --dense-attention, --probe-mib, the engine flags and the parallel-layout flags.
void AddOfflineBenchFlags(CLI::App& cmd, OfflineBenchArgs* a);

struct OfflineBench {
  OfflineBench() = default;
  OfflineBench(OfflineBench&&) = default;
  OfflineBench& operator=(OfflineBench&&) = default;
  // Under mpirun, on every way out: stops the engine, then the followers, whose MPI_Finalize rank 0's waits for.
  ~OfflineBench();

  std::unique_ptr<ParallelSession> session;  // first, so that it outlives the model (null on no MPI path)
  std::shared_ptr<model::Model> model;
  std::unique_ptr<engine::ReplicaSync> replicas;  // with DP > 1: this replica's steps agreed with the others'
  std::unique_ptr<engine::Engine> engine;
  std::shared_ptr<engine::LockStepModel> lock_step;  // under mpirun: `model`, broadcasting each call
  int threads = 0;
  double load_s = 0;              // checkpoint open + model ready
  double read_bytes_per_s = 0;    // best pass of the read-bandwidth probe
  double fma_flops_per_s = 0;     // best pass of the FMA probe
  model::KvCacheDtype kv_dtype = model::KvCacheDtype::kF32;
  // Under mpirun, this rank's share of the model: the roofline lines count its bytes and FLOPs.
  std::optional<model::ModelShard> shard;
  const model::ModelShard* rank_share() const { return shard ? &*shard : nullptr; }
};

// `tokens` rounded up to whole KV blocks: the engine sizes its cache as max_num_seqs x max_model_len tokens,
// and each sequence occupies whole blocks, so an unrounded length would leave room for fewer sequences.
int64_t WholeBlocks(int64_t tokens, const engine::EngineOptions& options);

// Starts the MPI job the parallel flags ask for (docs/parallelism.md). Returns the exit code when this
// process is done: a bad layout (rank 0 printed it) or a follower rank that ran its replica leader's model
// calls in lock-step until it was stopped; nullopt on each replica's leader (rank 0 alone with DP = 1) and
// in one process, which go on: every leader runs the benchmark on its own engine, rank 0 prints.
std::optional<int> JoinOfflineBenchJob(const OfflineBenchArgs& a, std::unique_ptr<ParallelSession>* session);

// Loads the model, measures the limits on a pool of the same thread count, then starts the engine (on a
// LockStepModel under mpirun, after which the followers get the KV-cache geometry). nullopt when that
// failed: the error is printed before the followers are released, since a released follower exits
// non-zero and mpirun may then end this process before it prints.
std::optional<OfflineBench> StartOfflineBench(const OfflineBenchArgs& a, std::unique_ptr<ParallelSession> session);

// `count` prompts of `len` ids drawn uniformly from [0, min(10000, vocab)) (vLLM: np.random.randint(10000)).
std::vector<std::vector<int32_t>> RandomPromptIds(int64_t count, int64_t len, int64_t vocab, std::mt19937_64& rng);

// Runs every request to completion (ignore_eos, temperature 1, top_p 1 as vLLM's benches) and returns
// the wall time; *first_tokens_s gets the time at which every choice had its first token (the prefill).
StatusOr<double> RunToCompletion(engine::Engine& e, const std::vector<std::vector<int32_t>>& prompts, int n,
                                 int64_t output_len, const std::string& id_prefix, double* first_tokens_s);

// The time the machine needs at least for a step of this cost: the larger of bytes / bandwidth and
// FLOPs / FMA peak.
double RooflineSeconds(const OfflineBench& b, const model::StepCost& cost);

// The longest of the replicas' `seconds` (every replica leader calls it, after stopping its engine, whose
// thread uses the same group; `seconds` itself without DP).
StatusOr<double> SlowestReplica(const OfflineBench& b, double seconds);

// Prints the limits line: "Machine limits (N threads, measured in this run): read X GB/s, FP32 FMA Y GFLOP/s".
void PrintMachineLimits(const OfflineBench& b);

// The end of a run: writes `results` to `output_json` (when given), shuts the engine down, and returns the
// subcommand's exit code (1 with one line when the file cannot be written).
int FinishOfflineBench(OfflineBench& b, const std::string& output_json, const nlohmann::json& results);

}  // namespace sieve::cli
