// The process's place in an mpirun job (see parallel_session.h).
#include "cli/parallel_session.h"

#include <chrono>
#include <cstring>

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
  attention_.reset();
  world_.reset();
}

void ParallelSession::Configure(model::ModelOptions* options) const {
  options->layout = layout_;
  options->attention_group = attention_.get();
  options->moe_group = world_.get();
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
