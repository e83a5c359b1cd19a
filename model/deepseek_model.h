// DeepseekModel: the Model contract (model.h) for DeepSeek-V3 / V3.1 / V3.2 checkpoints:
//   h = embed(tokens); h = layer_l(h) for each decoder layer; hidden = norm(h); logits = lm_head(hidden)
// (DeepSeek-V3 inference/model.py, Transformer.forward), plus the optional MTP layer.
#pragma once

#include <memory>
#include <vector>

#include "kernels/thread_pool.h"
#include "model/decoder_layer.h"
#include "model/model.h"
#include "model/mtp.h"
#include "model/vocab_parallel.h"

namespace sieve::model {

class DeepseekModel final : public Model {
 public:
  // `shard`: this rank's part of options.layout (ModelShard::Create, checked by Model::Load).
  DeepseekModel(std::shared_ptr<const Checkpoint> checkpoint, const ModelOptions& options, const ModelShard& shard);

  const ModelConfig& config() const override { return checkpoint_->config(); }
  int64_t num_cache_layers() const override;
  Status Forward(const ForwardBatch& batch, PagedKvCache& cache, ForwardOutput* out) override;
  Status ForwardMtp(const ForwardBatch& batch, const Tensor& hidden, PagedKvCache& cache, ForwardOutput* out) override;

 private:
  ForwardContext Context() const;

  std::shared_ptr<const Checkpoint> checkpoint_;
  ModelOptions options_;
  std::unique_ptr<kernels::ThreadPool> pool_;
  YarnRope rope_;
  VocabParallel embed_, lm_head_;  // [vocab, hidden], this rank's rows
  std::vector<float> final_norm_;          // [hidden]
  std::vector<std::unique_ptr<DecoderLayer>> layers_;
  std::unique_ptr<MtpLayer> mtp_;  // when options.enable_mtp and the checkpoint has one
};

}  // namespace sieve::model
