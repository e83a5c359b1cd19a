// ParallelSession: a model-running subcommand's place in an mpirun job (docs/parallelism.md). MPI is
// initialized only when a parallel flag asks for more than one process and mpirun started this process,
// so a plain `sieve generate` never touches MPI.
#pragma once

#include <memory>

#include "core/status.h"
#include "model/model.h"
#include "parallel/communicator.h"
#include "parallel/counting_communicator.h"
#include "parallel/mpi_runtime.h"
#include "parallel/parallel_layout.h"

namespace sieve::cli {

class ParallelSession {
 public:
  // One process unless `config` asks for more; then checks the layout against mpirun's world. Every rank
  // gets the same error for a bad layout (it depends only on the flags and the world size). *session is
  // set whenever MPI started, even with an error, so that rank 0 reports it before MPI_Finalize: a rank
  // that finalized and exited first would make mpirun kill rank 0 before it printed.
  static Status Start(const parallel::ParallelConfig& config, std::unique_ptr<ParallelSession>* session);
  ParallelSession(const ParallelSession&) = delete;
  ParallelSession& operator=(const ParallelSession&) = delete;
  ~ParallelSession();  // the groups before MPI_Finalize

  const parallel::ParallelLayout& layout() const { return layout_; }
  // Rank 0 prints and samples; every rank computes.
  bool is_root() const { return world_ == nullptr || world_->rank() == 0; }
  // The first rank of each data-parallel replica runs its engine (HTTP, scheduler, sampler); the others
  // follow its step commands. With DP = 1 this is rank 0 alone.
  bool is_replica_leader() const { return layout_.attn_tp_rank == 0; }
  // The layout and the groups, for Model::Load. The session must outlive the model.
  void Configure(model::ModelOptions* options) const;
  // What this rank passed to the model's all-reduces since the last reset (both groups), for the
  // communication line of `sieve bench latency` (0 in one process).
  int64_t all_reduce_bytes() const;
  void ResetCommunicationCounts() const;
  // Rank 0's token to every rank, so all ranks feed the same next step (a no-op in one process).
  Status ShareToken(int32_t* token) const;
  // Collective over every rank, once the model is loaded and the KV cache sized: rank 0 prints (on stderr,
  // so `sieve generate`'s stdout stays the tokens) one line per rank with the checkpoint bytes its slices map (model/shard_memory.h) and its KV cache. A no-op in one
  // process.
  Status ReportMemory(const model::ModelConfig& config, bool with_mtp, double kv_cache_bytes) const;
  // The channel of lock-step serving's step commands (engine/lock_step_model.h), null in one process: the
  // ranks of this replica on a communicator of their own, so commands never interleave with the forward
  // pass's collectives. The replica's leader (its rank 0 here) sends with the collective deadline (a dead
  // follower ends the job); the others wait without one, because an idle server sends nothing for as long
  // as no request comes.
  parallel::Communicator* control() const { return control_.get(); }
  // The replica leaders (one rank per replica) with DP > 1, else null: their engines agree on every step
  // over it (engine/replica_sync.h). Null on the other ranks too.
  parallel::Communicator* replica_leaders() const { return leaders_.get(); }

 private:
  ParallelSession() = default;

  std::unique_ptr<parallel::MpiRuntime> runtime_;      // null in one process
  std::unique_ptr<parallel::Communicator> world_;      // the MoE group
  std::unique_ptr<parallel::Communicator> attention_;  // this replica's attention-TP group
  // The two groups as the model sees them: counting what its collectives move.
  std::unique_ptr<parallel::CountingCommunicator> model_world_, model_attention_;
  std::unique_ptr<parallel::Communicator> control_;    // step commands (see control())
  std::unique_ptr<parallel::Communicator> leaders_;    // see replica_leaders()
  parallel::ParallelConfig config_;  // the flags, to describe the other ranks' places
  parallel::ParallelLayout layout_;
};

}  // namespace sieve::cli
