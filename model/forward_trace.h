// ForwardTrace: intermediate values of one Forward call, recorded only when ModelOptions::trace points at
// one (golden tests compare them with the fixture's trace). Rows follow the step's token rows.
#pragma once

#include <cstdint>
#include <vector>

namespace sieve::model {

struct ForwardTrace {
  // Per decoder layer: the residual stream after the layer, [n_tokens, hidden_size].
  std::vector<std::vector<float>> hidden_after_layer;
  // Per decoder layer with an indexer (empty otherwise): per token, the index scores of keys 0..pos
  // and the selected key positions in ascending order.
  std::vector<std::vector<std::vector<float>>> indexer_scores;
  std::vector<std::vector<std::vector<int32_t>>> indexer_topk;
  // Per MoE layer (empty otherwise): [n_tokens, num_experts_per_tok] in selection order.
  std::vector<std::vector<int32_t>> moe_expert_ids;
  std::vector<std::vector<float>> moe_expert_weights;

  void Reset(int64_t num_layers) {
    hidden_after_layer.assign(num_layers, {});
    indexer_scores.assign(num_layers, {});
    indexer_topk.assign(num_layers, {});
    moe_expert_ids.assign(num_layers, {});
    moe_expert_weights.assign(num_layers, {});
  }
};

}  // namespace sieve::model
