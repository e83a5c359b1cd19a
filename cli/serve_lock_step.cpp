// Lock-step serving's start-up handshake and follower loop (see serve_lock_step.h).
#include "cli/serve_lock_step.h"

#include <array>
#include <span>

#include "engine/lock_step_model.h"

namespace sieve::cli {
namespace {

// {ok, num_blocks, block_size, dtype}: one fixed-size broadcast.
using GeometryMessage = std::array<int64_t, 4>;

}  // namespace

Status ShareKvGeometry(const ParallelSession& session, const std::optional<KvGeometry>& geometry) {
  if (session.control() == nullptr) return Status::Ok();
  GeometryMessage message{};
  if (geometry) message = {1, geometry->num_blocks, geometry->block_size, static_cast<int64_t>(geometry->dtype)};
  return session.control()->Broadcast(std::as_writable_bytes(std::span(message)), 0);
}

int RunServeFollower(const std::string& model_dir, const model::ModelOptions& options, const ParallelSession& session) {
  // Rank 0 opens and loads the same files and reports any error; a follower that fails here exits
  // non-zero, which makes mpirun end the job.
  auto ckpt = model::Checkpoint::Open(model_dir);
  if (!ckpt.ok()) return 1;
  auto model = model::Model::Load(std::move(ckpt).value(), options);
  if (!model.ok()) return 1;
  GeometryMessage message{};
  if (Status s = session.control()->Broadcast(std::as_writable_bytes(std::span(message)), 0); !s.ok())
    parallel::AbortJob(s);
  if (message[0] != 1) return 1;
  model::PagedKvCache cache((*model)->config(), (*model)->num_cache_layers(), message[1], message[2],
                            static_cast<model::KvCacheDtype>(message[3]));
  if (Status s = engine::RunLockStepFollower(**model, cache, *session.control()); !s.ok()) parallel::AbortJob(s);
  return 0;
}

}  // namespace sieve::cli
