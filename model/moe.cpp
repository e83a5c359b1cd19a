// DeepSeekMoE block (see moe.h). Tokens are grouped per expert so each expert's weights are read once per
// step; contributions are added in expert order, then the shared expert's, as MoE.forward does.
#include "model/moe.h"

#include <algorithm>

#include "kernels/matmul.h"
#include "model/group_sum.h"

namespace sieve::model {

Moe::Moe(const Checkpoint& ckpt, const std::string& prefix, const ModelShard& shard)
    : router_(ckpt, prefix), first_expert_(shard.experts.begin), hidden_(ckpt.config().hidden_size) {
  const ModelConfig& c = ckpt.config();
  for (int64_t e = shard.experts.begin; e < shard.experts.begin + shard.experts.count; ++e)
    experts_.emplace_back(ckpt, prefix + ".experts." + std::to_string(e), shard.expert_intermediate);
  if (c.n_shared_experts > 0) shared_ = std::make_unique<Mlp>(ckpt, prefix + ".shared_experts", shard.shared_intermediate);
}

void Moe::Forward(const float* x, int64_t n, float* out, const ForwardContext& ctx, Routing* routing_out) const {
  kernels::ThreadPool& pool = *ctx.pool;
  Routing routing = router_.Route(x, n, pool);
  // Per local expert: (token row, weight) of the tokens routed to it; other ranks take the rest.
  std::vector<std::vector<std::pair<int64_t, float>>> assigned(experts_.size());
  const int64_t local_experts = static_cast<int64_t>(experts_.size());
  for (int64_t t = 0; t < n; ++t)
    for (int64_t i = 0; i < routing.k; ++i) {
      const int64_t e = routing.experts[t * routing.k + i] - first_expert_;
      if (e >= 0 && e < local_experts) assigned[e].push_back({t, routing.weights[t * routing.k + i]});
    }
  std::fill(out, out + n * hidden_, 0.0f);
  std::vector<float> xs, ys;  // [tokens of one expert, hidden]
  for (size_t e = 0; e < experts_.size(); ++e) {
    const auto& rows = assigned[e];
    if (rows.empty()) continue;  // an unchosen expert's weights are never touched
    const int64_t m = static_cast<int64_t>(rows.size());
    xs.resize(m * hidden_);
    ys.resize(m * hidden_);
    for (int64_t i = 0; i < m; ++i) std::copy_n(x + rows[i].first * hidden_, hidden_, xs.data() + i * hidden_);
    experts_[e].Forward(xs.data(), m, ys.data(), pool);
    for (int64_t i = 0; i < m; ++i) kernels::Axpy(rows[i].second, ys.data() + i * hidden_, out + rows[i].first * hidden_, hidden_);
  }
  // The shared expert is split over the attention-TP group, the routed experts over every rank: one
  // all-reduce when the two groups are the same (no DP), else one over each.
  const bool same_group = ctx.attention_group == ctx.moe_group ||
                          (ctx.attention_group != nullptr && ctx.moe_group != nullptr &&
                           ctx.attention_group->size() == ctx.moe_group->size());
  if (!same_group) GroupSum(ctx.moe_group, out, n * hidden_);
  if (shared_) {
    ys.resize(n * hidden_);
    shared_->Forward(x, n, ys.data(), pool);
    if (!same_group) GroupSum(ctx.attention_group, ys.data(), n * hidden_);
    for (int64_t i = 0; i < n * hidden_; ++i) out[i] += ys[i];
  }
  if (same_group) GroupSum(ctx.moe_group, out, n * hidden_);
  if (routing_out != nullptr) *routing_out = std::move(routing);
}

}  // namespace sieve::model
