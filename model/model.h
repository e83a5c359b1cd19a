// Model: the DeepSeek-V3.2 forward pass (MLA + DSA lightning indexer + DeepSeekMoE, and the MTP layer)
// over a validated Checkpoint, reading weights in place (FP8 blocks, BF16) and activations in fp32.
// Thread-compatible: one step at a time; the engine's step loop owns the calls.
#pragma once

#include <memory>
#include <utility>
#include <vector>

#include "core/status.h"
#include "model/checkpoint.h"
#include "model/forward_batch.h"
#include "model/forward_trace.h"
#include "model/paged_kv_cache.h"
#include "parallel/communicator.h"
#include "parallel/parallel_layout.h"

namespace sieve::model {

struct ModelOptions {
  int num_threads = 0;        // 0: one per physical core (kernels::ThreadPool::DefaultThreadCount)
  bool enable_mtp = false;    // also set up the MTP layer (speculative decoding)
  bool dense_attention = false;  // ignore the indexer (attend to all tokens): for comparisons only
  // vLLM's MTP convention: zero the MTP embedding at position 0 (SGLang and the default keep it).
  bool mtp_zero_first_embedding = false;
  // Tests only: when set, each Forward / ForwardMtp records its intermediates here (layer index =
  // cache layer, so the MTP block is num_hidden_layers). Must outlive the model.
  ForwardTrace* trace = nullptr;
  // This rank's share of the model under mpirun (docs/parallelism.md); the default is one process holding
  // everything. With attn_tp_size > 1, `attention_group` is the rank's attention-TP group; with
  // world_size > 1, `moe_group` is every rank. Both must outlive the model. Every rank of the job runs the
  // same number of Forward calls in the same order; with DP > 1 each replica runs its own batches (an
  // empty one when it has no work), and the MoE layers exchange tokens over `moe_group` (model/moe.h).
  parallel::ParallelLayout layout = {};
  parallel::Communicator* attention_group = nullptr;
  parallel::Communicator* moe_group = nullptr;
};

class Model {
 public:
  static StatusOr<std::unique_ptr<Model>> Load(std::shared_ptr<const Checkpoint> checkpoint,
                                               const ModelOptions& options);
  virtual ~Model() = default;

  virtual const ModelConfig& config() const = 0;
  // Layers the KV cache must hold: decoder layers (+ MTP layers when enabled).
  virtual int64_t num_cache_layers() const = 0;
  // Runs one step: appends every chunk's tokens to the cache and returns the logits asked for.
  virtual Status Forward(const ForwardBatch& batch, PagedKvCache& cache, ForwardOutput* out) = 0;
  // The MTP layer (DeepSeek-V3 report sec. 2.2) on the same batch shape: chunk tokens are the *next*
  // tokens t[i+1] and `hidden` [n_tokens, hidden_size] the main model's final-norm hidden of t[i].
  // Uses cache layer num_hidden_layers; out->hidden holds the rows after shared_head.norm (the MTP head's input).
  virtual Status ForwardMtp(const ForwardBatch& batch, const Tensor& hidden, PagedKvCache& cache,
                            ForwardOutput* out) = 0;
  // Copy-on-write of forked sequences' partial blocks, (src, dst) in order, between steps. Here rather than
  // on the cache alone so that a wrapper running the model on several processes (engine/lock_step_model.h)
  // repeats the copies on every process's cache.
  virtual void CopyCacheBlocks(const std::vector<std::pair<int32_t, int32_t>>& copies, PagedKvCache& cache) {
    for (const auto& [src, dst] : copies) cache.CopyBlock(src, dst);
  }
};

}  // namespace sieve::model
