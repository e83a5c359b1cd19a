// Lock-step serving's start-up handshake and follower loop (see serve_lock_step.h).
#include "cli/serve_lock_step.h"

#include <array>
#include <span>

#include "engine/lock_step_model.h"

namespace sieve::cli {
namespace {

// {ok, num_blocks, block_size, dtype}: one fixed-size broadcast.
using GeometryMessage = std::array<int64_t, 4>;

// The rank's share of the checkpoint and its cache of `geometry` in the job's memory report.
Status ReportMemory(const ParallelSession& session, const KvGeometry& geometry, const model::Model& model) {
  const model::ModelConfig& c = model.config();
  const double cache_bytes =
      static_cast<double>(geometry.num_blocks * geometry.block_size) *
      static_cast<double>(model::PagedKvCache::BytesPerToken(c, model.num_cache_layers(), geometry.dtype));
  return session.ReportMemory(c, model.num_cache_layers() > c.num_hidden_layers, cache_bytes);
}

}  // namespace

Status ShareKvGeometry(const ParallelSession& session, const std::optional<KvGeometry>& geometry,
                       const model::Model* model) {
  if (session.control() == nullptr) return Status::Ok();
  GeometryMessage message{};
  if (geometry) message = {1, geometry->num_blocks, geometry->block_size, static_cast<int64_t>(geometry->dtype)};
  SIEVE_RETURN_IF_ERROR(session.control()->Broadcast(std::as_writable_bytes(std::span(message)), 0));
  if (geometry && model != nullptr) return ReportMemory(session, *geometry, *model);
  return Status::Ok();
}

int RunServeFollower(const std::string& model_dir, model::WeightLoad load, const model::ModelOptions& options,
                     const ParallelSession& session) {
  // Rank 0 opens and loads the same files and reports any error; a follower that fails here exits
  // non-zero, which makes mpirun end the job.
  auto ckpt = model::Checkpoint::Open(model_dir, load, options.enable_mtp);
  if (!ckpt.ok()) return 1;
  auto model = model::Model::Load(std::move(ckpt).value(), options);
  if (!model.ok()) return 1;
  GeometryMessage message{};
  if (Status s = session.control()->Broadcast(std::as_writable_bytes(std::span(message)), 0); !s.ok())
    parallel::AbortJob(s);
  if (message[0] != 1) return 1;
  const KvGeometry geometry{message[1], message[2], static_cast<model::KvCacheDtype>(message[3])};
  if (Status s = ReportMemory(session, geometry, **model); !s.ok()) parallel::AbortJob(s);
  model::PagedKvCache cache((*model)->config(), (*model)->num_cache_layers(), geometry.num_blocks, geometry.block_size,
                            geometry.dtype);
  if (Status s = engine::RunLockStepFollower(**model, cache, *session.control()); !s.ok()) parallel::AbortJob(s);
  return 0;
}

}  // namespace sieve::cli
