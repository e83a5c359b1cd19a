// DeepSeekMoE block (see moe.h).
#include "model/moe.h"

#include <algorithm>

#include "core/scratch_buffer.h"
#include "kernels/activation.h"
#include "kernels/matmul.h"
#include "model/group_sum.h"

namespace sieve::model {

Moe::Moe(const Checkpoint& ckpt, const std::string& prefix, const ModelShard& shard)
    : router_(ckpt, prefix),
      first_expert_(shard.experts.begin),
      placement_{.n_experts = ckpt.config().n_routed_experts, .experts_per_rank = shard.experts.count},
      hidden_(ckpt.config().hidden_size) {
  const ModelConfig& c = ckpt.config();
  for (int64_t e = shard.experts.begin; e < shard.experts.begin + shard.experts.count; ++e)
    experts_.emplace_back(ckpt, prefix + ".experts." + std::to_string(e), shard.expert_intermediate);
  if (c.n_shared_experts > 0) shared_ = std::make_unique<Mlp>(ckpt, prefix + ".shared_experts", shard.shared_intermediate);
}

void Moe::LocalExperts(const float* x, int64_t m, const int32_t* experts, const float* weights, int64_t k, float* out,
                       const Mlp* shared, kernels::ThreadPool& pool) const {
  // Per local expert: (row, weight) of the rows routed to it.
  std::vector<std::vector<std::pair<int64_t, float>>> assigned(experts_.size());
  const int64_t local_experts = static_cast<int64_t>(experts_.size());
  for (int64_t t = 0; t < m; ++t)
    for (int64_t i = 0; i < k; ++i) {
      const int64_t e = experts[t * k + i] - first_expert_;
      if (experts[t * k + i] >= 0 && e >= 0 && e < local_experts) assigned[e].push_back({t, weights[t * k + i]});
    }
  std::vector<std::pair<int64_t, float>> every_row;  // the shared expert's: weight 1 (out + y == Axpy(1, y, out))
  if (shared != nullptr)
    for (int64_t t = 0; t < m; ++t) every_row.push_back({t, 1.0f});
  // The MLPs to run one after another (chosen experts in expert order, then the shared one), with their
  // offsets into xs / ys [rows, hidden] and gate / up [rows, intermediate]. All their gate and up products
  // run as one pool job, then all their down products: at decode a MoE layer pays two pool round trips
  // instead of three per chosen expert and three for the shared one.
  struct Chosen {
    const Mlp* mlp;
    const std::vector<std::pair<int64_t, float>>* rows;
    int64_t first_row, first_inter;
  };
  std::vector<Chosen> chosen;
  int64_t total_rows = 0, total_inter = 0;
  const auto choose = [&](const Mlp* mlp, const std::vector<std::pair<int64_t, float>>& rows) {
    if (rows.empty()) return;  // an unchosen expert's weights are never touched
    chosen.push_back({mlp, &rows, total_rows, total_inter});
    total_rows += static_cast<int64_t>(rows.size());
    total_inter += static_cast<int64_t>(rows.size()) * mlp->intermediate();
  };
  for (int64_t e = 0; e < local_experts; ++e) choose(&experts_[e], assigned[e]);
  if (shared != nullptr) choose(shared, every_row);
  // The chosen rows' inputs, outputs and activations: [total_rows, hidden] and [total_inter]. Reused from
  // call to call on the thread running the layers: allocated afresh, a long prefill chunk's buffers (over
  // 32 MiB each, so glibc maps fresh pages every time) page-faulted in again in every layer, ~20% of a
  // 1,024-token prefill (docs/performance.md). Every element read is written first in this call.
  thread_local std::vector<float> xs, ys, gate, up;
  GrowScratch(xs, total_rows * hidden_);
  GrowScratch(ys, total_rows * hidden_);
  GrowScratch(gate, total_inter);
  GrowScratch(up, total_inter);
  // Row j of xs / ys is (token, weight) source[j]; per token, its rows in expert order (then the shared one).
  std::vector<std::pair<int64_t, float>> source(total_rows);
  std::vector<std::vector<int64_t>> rows_of(m);
  std::vector<kernels::MatmulProduct> products;
  for (const Chosen& c : chosen) {
    const int64_t r = static_cast<int64_t>(c.rows->size());
    for (int64_t i = 0; i < r; ++i) {
      source[c.first_row + i] = (*c.rows)[i];
      rows_of[(*c.rows)[i].first].push_back(c.first_row + i);
    }
    float* rows_x = xs.data() + c.first_row * hidden_;
    products.push_back(c.mlp->Gate(rows_x, r, gate.data() + c.first_inter));
    products.push_back(c.mlp->Up(rows_x, r, up.data() + c.first_inter));
  }
  // The gather and the weighted sum below run over the pool: in a 2,048-token prefill each moves 9 x 8 MiB
  // per layer (8 chosen experts and the shared one), which on one thread left the other idle.
  float* xs_data = xs.data();  // the lambdas run on pool threads: not the thread_locals themselves
  pool.ParallelFor(total_rows, [&](int64_t j0, int64_t j1) {
    for (int64_t j = j0; j < j1; ++j) std::copy_n(x + source[j].first * hidden_, hidden_, xs_data + j * hidden_);
  });
  kernels::MatmulMany(products, pool);
  products.clear();
  // Every chosen MLP's gate and up sit at the same offsets of `gate` and `up`: one activation pass for all.
  kernels::SiluMul(gate.data(), up.data(), total_inter, gate.data(), pool);
  for (const Chosen& c : chosen) {
    const int64_t r = static_cast<int64_t>(c.rows->size());
    products.push_back(c.mlp->Down(gate.data() + c.first_inter, r, ys.data() + c.first_row * hidden_));
  }
  kernels::MatmulMany(products, pool);
  const float* ys_data = ys.data();
  pool.ParallelFor(m, [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t) {  // in expert order, as MoE.forward adds them, then the shared expert
      std::fill(out + t * hidden_, out + (t + 1) * hidden_, 0.0f);
      for (const int64_t j : rows_of[t]) kernels::Axpy(source[j].second, ys_data + j * hidden_, out + t * hidden_, hidden_);
    }
  });
}

void Moe::Forward(const float* x, int64_t n, float* out, const ForwardContext& ctx, Routing* routing_out) const {
  kernels::ThreadPool& pool = *ctx.pool;
  Routing routing = router_.Route(x, n, pool);
  parallel::Communicator* attention = ctx.attention_group;
  const int attention_size = attention != nullptr ? attention->size() : 1;
  const bool data_parallel = ctx.moe_group != nullptr && ctx.moe_group->size() > attention_size;
  if (!data_parallel) {  // every rank holds the same rows: the shared expert runs with the routed ones
    LocalExperts(x, n, routing.experts.data(), routing.weights.data(), routing.k, out, shared_.get(), pool);
  } else {
    // This rank's share of the replica's rows [begin, end) goes through the all-to-all; the other rows
    // stay zero here and arrive from their owners in the attention group's all-reduce below.
    const int attention_rank = attention != nullptr ? attention->rank() : 0;
    const int64_t begin = n * attention_rank / attention_size, end = n * (attention_rank + 1) / attention_size;
    Routing share{.k = routing.k,
                  .experts = {routing.experts.begin() + begin * routing.k, routing.experts.begin() + end * routing.k},
                  .weights = {routing.weights.begin() + begin * routing.k, routing.weights.begin() + end * routing.k}};
    std::fill(out, out + n * hidden_, 0.0f);
    auto local = [&](const float* rows, int64_t m, const int32_t* experts, const float* weights, int64_t k,
                     float* result) { LocalExperts(rows, m, experts, weights, k, result, nullptr, pool); };
    DispatchCombine(*ctx.moe_group, placement_, x + begin * hidden_, end - begin, hidden_, share, local,
                    out + begin * hidden_);
  }
  if (data_parallel && shared_) {  // on all of the replica's rows, not only this rank's share
    std::vector<float> ys(n * hidden_);
    shared_->Forward(x, n, ys.data(), pool);
    for (int64_t i = 0; i < n * hidden_; ++i) out[i] += ys[i];
  }
  // Without DP the routed partial rows and the shared expert's are summed over the same group in one
  // all-reduce (the MoE group is the attention group); with DP the dispatch already summed the routed
  // experts, and the attention group joins its ranks' row shares and shared-expert slices.
  GroupSum(data_parallel ? attention : ctx.moe_group, out, n * hidden_);
  if (routing_out != nullptr) *routing_out = std::move(routing);
}

}  // namespace sieve::model
