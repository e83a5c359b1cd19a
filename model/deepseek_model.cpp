// The whole forward pass (see deepseek_model.h) and Model::Load.
#include "model/deepseek_model.h"

#include <algorithm>
#include <chrono>

#include "core/available_memory.h"
#include "core/logging.h"
#include "core/numa_nodes.h"
#include "kernels/matmul.h"
#include "kernels/norm.h"
#include "model/step_tokens.h"
#include "model/weight_prefault.h"
#include "model/weight_views.h"

namespace sieve::model {

namespace {

// The token rows each sequence asks logits for, and where its output rows begin.
std::vector<int64_t> OutputRows(const StepTokens& step, ForwardOutput* out) {
  std::vector<int64_t> rows;
  out->row_begin.clear();
  for (int64_t s = 0; s < step.n_seqs(); ++s) {
    out->row_begin.push_back(static_cast<int64_t>(rows.size()));
    switch (step.batch->seqs[s].logits) {
      case SequenceChunk::Logits::kNone: break;
      case SequenceChunk::Logits::kLast: rows.push_back(step.seq_begin[s + 1] - 1); break;
      case SequenceChunk::Logits::kAll:
        for (int64_t t = step.seq_begin[s]; t < step.seq_begin[s + 1]; ++t) rows.push_back(t);
        break;
    }
  }
  out->row_begin.push_back(static_cast<int64_t>(rows.size()));
  return rows;
}

}  // namespace

StatusOr<std::unique_ptr<Model>> Model::Load(std::shared_ptr<const Checkpoint> checkpoint, const ModelOptions& options) {
  const ModelConfig& c = checkpoint->config();
  if (options.enable_mtp && c.num_nextn_predict_layers == 0)
    return Status::FailedPrecondition(checkpoint->dir() + ": MTP requested but num_nextn_predict_layers is 0");
  // ParseModelConfig has checked the rest (index_head_dim a power of two above qk_rope_head_dim, groups).
  const parallel::ParallelLayout& l = options.layout;
  auto group_fits = [](const parallel::Communicator* group, int size) {
    return size == 1 ? group == nullptr || group->size() == 1 : group != nullptr && group->size() == size;
  };
  if (!group_fits(options.attention_group, l.attn_tp_size) || !group_fits(options.moe_group, l.world_size))
    return Status::InvalidArgument("ModelOptions: the attention group must have attn_tp_size (" +
                                   std::to_string(l.attn_tp_size) + ") ranks and the MoE group world_size (" +
                                   std::to_string(l.world_size) + ")");
  SIEVE_ASSIGN_OR_RETURN(const ModelShard shard, ModelShard::Create(c, l));
  if (checkpoint->load() == WeightLoad::kMapped) {
    const auto start = std::chrono::steady_clock::now();
    const PrefaultReport r = PrefaultPages(RankWeightPages(*checkpoint, shard, options.enable_mtp),
                                           AvailableMemoryBytes(), OnlineNumaNodes());
    using Outcome = PrefaultReport::Outcome;
    if (r.outcome == Outcome::kDone) {
      spdlog::debug("Mapped {:.2f} GB of weight pages in {:.2f} s", static_cast<double>(r.bytes) / 1e9,
                    std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    } else if (r.outcome == Outcome::kSeveralNodes) {
      spdlog::debug("Weight pages not mapped ahead ({})", r.why_not);
    } else {
      spdlog::warn("Weight pages not mapped ahead ({}): the first steps will fault them in", r.why_not);
    }
  }
  return std::unique_ptr<Model>(new DeepseekModel(std::move(checkpoint), options, shard));
}

DeepseekModel::DeepseekModel(std::shared_ptr<const Checkpoint> checkpoint, const ModelOptions& options,
                             const ModelShard& shard)
    : checkpoint_(std::move(checkpoint)),
      options_(options),
      pool_(std::make_unique<kernels::ThreadPool>(options.num_threads)),
      rope_(checkpoint_->config()),
      embed_(DenseMatrix(checkpoint_->Get("model.embed_tokens.weight")), shard.vocab),
      lm_head_(DenseMatrix(checkpoint_->Get("lm_head.weight")), shard.vocab),
      final_norm_(FloatVector(checkpoint_->Get("model.norm.weight"))) {
  const ModelConfig& c = checkpoint_->config();
  for (int64_t l = 0; l < c.num_hidden_layers; ++l)
    layers_.push_back(std::make_unique<DecoderLayer>(*checkpoint_, l, rope_, shard));
  if (options.enable_mtp) mtp_ = std::make_unique<MtpLayer>(*checkpoint_, c.num_hidden_layers, rope_, shard);
}

int64_t DeepseekModel::num_cache_layers() const { return config().num_hidden_layers + (mtp_ ? 1 : 0); }

ForwardContext DeepseekModel::Context() const {
  if (options_.trace) options_.trace->Reset(num_cache_layers());
  return {pool_.get(), options_.dense_attention, options_.trace, options_.attention_group, options_.moe_group};
}

Status DeepseekModel::Forward(const ForwardBatch& batch, PagedKvCache& cache, ForwardOutput* out) {
  const ModelConfig& c = config();
  SIEVE_ASSIGN_OR_RETURN(StepTokens step, MakeStepTokens(batch, c, cache, num_cache_layers()));
  const ForwardContext ctx = Context();
  const int64_t n = step.n_tokens(), d = c.hidden_size;
  std::vector<float> h(n * d);  // [n, hidden]: the residual stream
  embed_.Embed(step.token_ids.data(), n, h.data(), ctx.attention_group);
  for (size_t l = 0; l < layers_.size(); ++l) {
    layers_[l]->Forward(step, h.data(), static_cast<int64_t>(l), cache, ctx);
    if (ctx.trace) ctx.trace->hidden_after_layer[l] = h;
  }
  const std::vector<int64_t> rows = OutputRows(step, out);
  const int64_t m = static_cast<int64_t>(rows.size());
  out->hidden = Tensor({m, d});
  for (int64_t i = 0; i < m; ++i)
    kernels::RmsNorm(h.data() + rows[i] * d, final_norm_.data(), 1, d, static_cast<float>(c.rms_norm_eps),
                     out->hidden.ptr() + i * d);
  out->logits = Tensor({m, c.vocab_size});
  lm_head_.Logits(out->hidden.ptr(), m, out->logits.ptr(), *pool_, ctx.attention_group);
  out->all_hidden = Tensor();
  if (batch.all_hidden) {
    out->all_hidden = Tensor({n, d});
    kernels::RmsNorm(h.data(), final_norm_.data(), n, d, static_cast<float>(c.rms_norm_eps), out->all_hidden.ptr());
  }
  return Status::Ok();
}

Status DeepseekModel::ForwardMtp(const ForwardBatch& batch, const Tensor& hidden, PagedKvCache& cache,
                                 ForwardOutput* out) {
  if (!mtp_) return Status::FailedPrecondition("the model was loaded without enable_mtp");
  const ModelConfig& c = config();
  SIEVE_ASSIGN_OR_RETURN(StepTokens step, MakeStepTokens(batch, c, cache, num_cache_layers()));
  const int64_t n = step.n_tokens(), d = c.hidden_size;
  if (hidden.shape != Shape{n, d})
    return Status::InvalidArgument("MTP hidden has shape " + ShapeToString(hidden.shape) + ", expected " +
                                   ShapeToString({n, d}) + " (one main-model hidden row per token)");
  const ForwardContext ctx = Context();
  std::vector<float> normed(n * d);
  mtp_->Forward(step, hidden.ptr(), c.num_hidden_layers, cache, ctx, options_.mtp_zero_first_embedding, normed.data());
  const std::vector<int64_t> rows = OutputRows(step, out);
  const int64_t m = static_cast<int64_t>(rows.size());
  out->hidden = Tensor({m, d});
  for (int64_t i = 0; i < m; ++i) std::copy_n(normed.data() + rows[i] * d, d, out->hidden.ptr() + i * d);
  out->logits = Tensor({m, c.vocab_size});
  mtp_->Logits(out->hidden.ptr(), m, out->logits.ptr(), ctx);
  return Status::Ok();
}

}  // namespace sieve::model
