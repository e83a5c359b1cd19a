// Rank 0's side and the followers' side of lock-step serving (see lock_step_model.h).
#include "engine/lock_step_model.h"

#include "parallel/mpi_runtime.h"

namespace sieve::engine {

void LockStepModel::Send(StepCommand command) {
  command.block_copies = std::move(pending_copies_);
  pending_copies_.clear();
  if (Status s = SendStepCommand(control_, command); !s.ok()) parallel::AbortJob(s);
}

Status LockStepModel::StopFollowers() {
  StepCommand stop;
  stop.kind = StepCommand::Kind::kStop;
  return SendStepCommand(control_, stop);
}

Status LockStepModel::Forward(const model::ForwardBatch& batch, model::PagedKvCache& cache, model::ForwardOutput* out) {
  Send({.kind = StepCommand::Kind::kForward, .batch = batch});
  if (Status s = inner_->Forward(batch, cache, out); !s.ok()) parallel::AbortJob(s);
  return Status::Ok();
}

Status LockStepModel::ForwardMtp(const model::ForwardBatch& batch, const Tensor& hidden, model::PagedKvCache& cache,
                                 model::ForwardOutput* out) {
  Send({.kind = StepCommand::Kind::kForwardMtp, .batch = batch, .hidden = hidden});
  if (Status s = inner_->ForwardMtp(batch, hidden, cache, out); !s.ok()) parallel::AbortJob(s);
  return Status::Ok();
}

void LockStepModel::CopyCacheBlocks(const std::vector<std::pair<int32_t, int32_t>>& copies,
                                    model::PagedKvCache& cache) {
  inner_->CopyCacheBlocks(copies, cache);
  pending_copies_.insert(pending_copies_.end(), copies.begin(), copies.end());
}

Status RunLockStepFollower(model::Model& model, model::PagedKvCache& cache, parallel::Communicator& control) {
  model::ForwardOutput out;
  for (;;) {
    SIEVE_ASSIGN_OR_RETURN(StepCommand command, ReceiveStepCommand(control));
    model.CopyCacheBlocks(command.block_copies, cache);
    switch (command.kind) {
      case StepCommand::Kind::kStop:
        return Status::Ok();
      case StepCommand::Kind::kForward:
        SIEVE_RETURN_IF_ERROR(model.Forward(command.batch, cache, &out));
        break;
      case StepCommand::Kind::kForwardMtp:
        SIEVE_RETURN_IF_ERROR(model.ForwardMtp(command.batch, command.hidden, cache, &out));
        break;
    }
  }
}

}  // namespace sieve::engine
