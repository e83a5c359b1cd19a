// All-reduce bytes of a step (see step_communication.h); mirrors the GroupSum calls of mla_attention.cpp,
// decoder_layer.cpp, moe.cpp and indexer.cpp.
#include "model/step_communication.h"

namespace sieve::model {

double CountAllReduceBytes(const ModelConfig& c, const parallel::ParallelLayout& layout, const StepShape& s) {
  const bool attention_split = layout.attn_tp_size > 1;
  const bool moe_split = layout.world_size > 1;  // the world, or with DP the attention group's row shares
  const int64_t dense = c.first_k_dense_replace, moe = c.num_hidden_layers - dense;
  const double tokens = static_cast<double>(s.num_seqs * s.new_tokens);
  double floats = 0;
  if (attention_split) floats += tokens * static_cast<double>((c.num_hidden_layers + dense) * c.hidden_size);
  if (attention_split && c.vocab_size % layout.attn_tp_size == 0) floats += tokens * static_cast<double>(c.hidden_size);
  if (moe_split && (layout.dp_size == 1 || attention_split)) floats += tokens * static_cast<double>(moe * c.hidden_size);
  if (attention_split && c.has_indexer() && !s.dense_attention) {
    double causal = 0;  // per sequence: keys of the tokens that choose among more than index_topk
    for (int64_t p = s.context_len - s.new_tokens; p < s.context_len; ++p)
      if (p + 1 > c.index_topk) causal += static_cast<double>(p + 1);
    floats += static_cast<double>(s.num_seqs) * causal * static_cast<double>(c.num_hidden_layers);
  }
  return floats * sizeof(float);
}

}  // namespace sieve::model
