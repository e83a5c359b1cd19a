// Lock-step serving over MPI (docs/parallelism.md, "Serving in lock-step"). Rank 0 runs the whole engine
// (HTTP, scheduler, sampler) on a LockStepModel: before each model call it broadcasts the call as a
// StepCommand, so the other ranks, running RunLockStepFollower, make the same call on their own KV cache
// of the same geometry. The all-reduces inside the calls then meet, and every rank's cache stays identical.
#pragma once

#include <memory>
#include <utility>
#include <vector>

#include "core/status.h"
#include "engine/step_command.h"
#include "model/model.h"
#include "parallel/communicator.h"

namespace sieve::engine {

class LockStepModel final : public model::Model {
 public:
  // `control` is the group the commands go over (rank 0 is this process); it must outlive the model and
  // be a communicator of its own, so a command never meets a collective of the forward pass.
  LockStepModel(std::shared_ptr<model::Model> inner, parallel::Communicator& control)
      : inner_(std::move(inner)), control_(control) {}
  // Sends kStop, after which the followers return; call once, when no step can run any more.
  Status StopFollowers();

  const model::ModelConfig& config() const override { return inner_->config(); }
  int64_t num_cache_layers() const override { return inner_->num_cache_layers(); }
  Status Forward(const model::ForwardBatch& batch, model::PagedKvCache& cache, model::ForwardOutput* out) override;
  Status ForwardMtp(const model::ForwardBatch& batch, const Tensor& hidden, model::PagedKvCache& cache,
                    model::ForwardOutput* out) override;
  // Copies here at once; the followers repeat them before the next command's call.
  void CopyCacheBlocks(const std::vector<std::pair<int32_t, int32_t>>& copies, model::PagedKvCache& cache) override;

 private:
  // A failed broadcast or forward leaves the ranks out of step with no way back, so the job ends
  // (parallel::AbortJob prints the one line) instead of serving wrong results.
  void Send(StepCommand command);

  std::shared_ptr<model::Model> inner_;
  parallel::Communicator& control_;
  std::vector<std::pair<int32_t, int32_t>> pending_copies_;
};

// A follower rank's loop: receives commands from rank 0 of `control` and runs them on `model` and `cache`,
// discarding the outputs, until kStop (then Ok). An error (a failed collective) is returned for the caller
// to end the job with.
Status RunLockStepFollower(model::Model& model, model::PagedKvCache& cache, parallel::Communicator& control);

}  // namespace sieve::engine
