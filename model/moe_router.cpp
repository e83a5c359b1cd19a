// noaux_tc group-limited routing (see moe_router.h).
#include "model/moe_router.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "kernels/matmul.h"
#include "model/weight_views.h"

namespace sieve::model {

namespace {
// Indices of the k largest values, largest first; ties go to the lower index (deterministic).
std::vector<int32_t> TopK(const std::vector<float>& v, int64_t k) {
  std::vector<int32_t> idx(v.size());
  std::iota(idx.begin(), idx.end(), 0);
  std::partial_sort(idx.begin(), idx.begin() + k, idx.end(),
                    [&](int32_t a, int32_t b) { return v[a] > v[b] || (v[a] == v[b] && a < b); });
  idx.resize(k);
  return idx;
}
}  // namespace

MoeRouter::MoeRouter(const Checkpoint& ckpt, const std::string& prefix)
    : gate_(DenseMatrix(ckpt.Get(prefix + ".gate.weight"))) {
  const ModelConfig& c = ckpt.config();
  if (const ConstTensorView* b = ckpt.Find(prefix + ".gate.e_score_correction_bias")) bias_ = FloatVector(*b);
  n_experts_ = c.n_routed_experts;
  n_group_ = std::max<int64_t>(1, c.n_group);
  topk_group_ = std::max<int64_t>(1, c.topk_group);
  top_k_ = c.num_experts_per_tok;
  routed_scaling_factor_ = static_cast<float>(c.routed_scaling_factor);
  softmax_scoring_ = c.scoring_func == "softmax";
}

void MoeRouter::Select(const float* scores, int32_t* experts, float* weights) const {
  std::vector<float> biased(scores, scores + n_experts_);
  for (size_t e = 0; e < bias_.size(); ++e) biased[e] += bias_[e];
  if (n_group_ > 1) {
    // Group score: sum of the group's top-2 biased scores (max without a bias), as Gate.forward.
    const int64_t per_group = n_experts_ / n_group_;
    std::vector<float> group_scores(n_group_);
    for (int64_t g = 0; g < n_group_; ++g) {
      std::vector<float> members(biased.begin() + g * per_group, biased.begin() + (g + 1) * per_group);
      const std::vector<int32_t> best = TopK(members, std::min<int64_t>(per_group, bias_.empty() ? 1 : 2));
      group_scores[g] = 0.0f;
      for (int32_t i : best) group_scores[g] += members[i];
    }
    std::vector<bool> kept(n_group_, false);
    for (int32_t g : TopK(group_scores, topk_group_)) kept[g] = true;
    for (int64_t e = 0; e < n_experts_; ++e)
      if (!kept[e / per_group]) biased[e] = -std::numeric_limits<float>::infinity();
  }
  const std::vector<int32_t> chosen = TopK(biased, top_k_);
  float sum = 0.0f;
  for (int64_t i = 0; i < top_k_; ++i) {
    experts[i] = chosen[i];
    weights[i] = scores[chosen[i]];  // unbiased: the bias only steers selection
    sum += weights[i];
  }
  for (int64_t i = 0; i < top_k_; ++i) {
    if (!softmax_scoring_) weights[i] /= sum;  // sigmoid scores are normalised, softmax ones already are
    weights[i] *= routed_scaling_factor_;
  }
}

Routing MoeRouter::Route(const float* x, int64_t n, kernels::ThreadPool& pool) const {
  std::vector<float> scores(n * n_experts_);  // [n, n_routed_experts], fp32 as the reference
  kernels::Matmul(gate_, x, n, scores.data(), pool);
  for (int64_t t = 0; t < n; ++t) {
    float* s = scores.data() + t * n_experts_;
    if (softmax_scoring_) {
      const float mx = *std::max_element(s, s + n_experts_);
      float sum = 0.0f;
      for (int64_t e = 0; e < n_experts_; ++e) sum += (s[e] = std::exp(s[e] - mx));
      for (int64_t e = 0; e < n_experts_; ++e) s[e] /= sum;
    } else {
      for (int64_t e = 0; e < n_experts_; ++e) s[e] = 1.0f / (1.0f + std::exp(-s[e]));
    }
  }
  Routing r;
  r.k = top_k_;
  r.experts.resize(n * top_k_);
  r.weights.resize(n * top_k_);
  for (int64_t t = 0; t < n; ++t)
    Select(scores.data() + t * n_experts_, r.experts.data() + t * top_k_, r.weights.data() + t * top_k_);
  return r;
}

}  // namespace sieve::model
