// The process's place in an mpirun job (see parallel_session.h).
#include "cli/parallel_session.h"

#include <chrono>
#include <cstring>
#include <vector>

#include <fmt/format.h>

#include "model/shard_memory.h"

namespace sieve::cli {

namespace {

// A collective that waits this long means a dead or stuck rank (ranks run in lock-step, so a healthy
// wait is one step of the slowest rank): the job ends with a message instead of hanging.
constexpr std::chrono::seconds kCollectiveDeadline{300};
// A follower's wait for the next step command: unbounded in practice (a century), since idleness is no
// failure; if rank 0 dies, mpirun ends the job.
constexpr std::chrono::hours kIdleWait{24 * 365 * 100};

bool AsksForProcesses(const parallel::ParallelConfig& c) {
  return c.tensor_parallel_size > 1 || c.data_parallel_size > 1 || c.expert_parallel_size > 1 ||
         c.enable_expert_parallel || c.enable_dp_attention;
}

}  // namespace

Status ParallelSession::Start(const parallel::ParallelConfig& config, std::unique_ptr<ParallelSession>* session) {
  session->reset(new ParallelSession());
  ParallelSession& s = **session;
  s.config_ = config;
  if (!AsksForProcesses(config) || !parallel::LaunchedByMpirun()) {
    // One process: the layout check still rejects flags that need more ("... needs 2 processes, but mpirun
    // started 1").
    SIEVE_ASSIGN_OR_RETURN(s.layout_, parallel::ParallelLayout::Create(config, 1, 0));
    return Status::Ok();
  }
  SIEVE_ASSIGN_OR_RETURN(s.runtime_, parallel::MpiRuntime::Init());
  SIEVE_ASSIGN_OR_RETURN(s.world_, s.runtime_->World(kCollectiveDeadline));
  SIEVE_ASSIGN_OR_RETURN(s.layout_, parallel::ParallelLayout::Create(config, s.world_->size(), s.world_->rank()));
  SIEVE_ASSIGN_OR_RETURN(s.attention_, s.world_->Split(s.layout_.dp_rank, s.layout_.attn_tp_rank));
  s.model_world_ = std::make_unique<parallel::CountingCommunicator>(s.world_.get());
  s.model_attention_ = std::make_unique<parallel::CountingCommunicator>(s.attention_.get());
  // MPI_Comm_dup and MPI_Comm_split are collective; the deadline is each process's own, and the split
  // keeps it.
  const std::chrono::milliseconds command_wait = s.is_replica_leader() ? kCollectiveDeadline : kIdleWait;
  SIEVE_ASSIGN_OR_RETURN(std::unique_ptr<parallel::Communicator> commands, s.runtime_->World(command_wait));
  SIEVE_ASSIGN_OR_RETURN(s.control_, commands->Split(s.layout_.dp_rank, s.layout_.attn_tp_rank));
  if (s.layout_.dp_size > 1) {
    std::unique_ptr<parallel::Communicator> leaders;
    SIEVE_ASSIGN_OR_RETURN(leaders, s.world_->Split(s.is_replica_leader() ? 0 : 1, s.layout_.dp_rank));
    if (s.is_replica_leader()) s.leaders_ = std::move(leaders);
  }
  return Status::Ok();
}

ParallelSession::~ParallelSession() {
  leaders_.reset();
  control_.reset();
  model_attention_.reset();
  model_world_.reset();
  attention_.reset();
  world_.reset();
}

void ParallelSession::Configure(model::ModelOptions* options) const {
  options->layout = layout_;
  options->attention_group = model_attention_.get();
  options->moe_group = model_world_.get();
}

int64_t ParallelSession::all_reduce_bytes() const {
  return model_world_ ? model_world_->all_reduce_bytes() + model_attention_->all_reduce_bytes() : 0;
}

void ParallelSession::ResetCommunicationCounts() const {
  if (!model_world_) return;
  model_world_->ResetCounts();
  model_attention_->ResetCounts();
}

Status ParallelSession::ReportMemory(const model::ModelConfig& config, bool with_mtp, double kv_cache_bytes) const {
  if (!world_) return Status::Ok();
  SIEVE_ASSIGN_OR_RETURN(const model::ModelShard shard, model::ModelShard::Create(config, layout_));
  const model::ShardMemory weights = model::CountShardMemory(config, shard, with_mtp);
  constexpr double kMiB = 1 << 20;  // MiB keep the values exact enough in fp32
  const float mine[3] = {static_cast<float>(weights.rank_bytes / kMiB), static_cast<float>(weights.total_bytes / kMiB),
                         static_cast<float>(kv_cache_bytes / kMiB)};
  std::vector<float> all(3 * static_cast<size_t>(world_->size()));
  SIEVE_RETURN_IF_ERROR(world_->AllGather(mine, all));
  if (!is_root()) return Status::Ok();
  for (int r = 0; r < world_->size(); ++r) {
    const float* m = all.data() + 3 * r;
    auto place = parallel::ParallelLayout::Create(config_, world_->size(), r);
    fmt::print(stderr,
               "memory: rank {} (dp {}, attention-tp {}): checkpoint slices {:.3f} GiB of {:.3f} GiB ({:.1f}%, "
               "memory-mapped), KV cache {:.3f} GiB\n",
               r, place.ok() ? place->dp_rank : -1, place.ok() ? place->attn_tp_rank : -1, m[0] / 1024.0,
                 m[1] / 1024.0, 100.0 * m[0] / m[1], m[2] / 1024.0);
  }
  return Status::Ok();
}

Status ParallelSession::ShareToken(int32_t* token) const {
  if (!world_) return Status::Ok();
  std::byte bytes[sizeof(int32_t)];
  std::memcpy(bytes, token, sizeof bytes);
  SIEVE_RETURN_IF_ERROR(world_->Broadcast(bytes, 0));
  std::memcpy(token, bytes, sizeof bytes);
  return Status::Ok();
}

}  // namespace sieve::cli
