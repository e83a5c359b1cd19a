// The rank's ranges of every split dimension (see model_shard.h).
#include "model/model_shard.h"

namespace sieve::model {

StatusOr<ModelShard> ModelShard::Create(const ModelConfig& c, const parallel::ParallelLayout& l) {
  using parallel::ParallelLayout;
  ModelShard s;
  SIEVE_ASSIGN_OR_RETURN(s.heads, l.AttentionHeads(c.num_attention_heads));
  SIEVE_ASSIGN_OR_RETURN(s.index_heads,
                         ParallelLayout::Shard(c.index_n_heads, l.attn_tp_size, l.attn_tp_rank, "index_n_heads"));
  SIEVE_ASSIGN_OR_RETURN(s.dense_intermediate, ParallelLayout::Shard(c.intermediate_size, l.attn_tp_size,
                                                                     l.attn_tp_rank, "intermediate_size"));
  SIEVE_ASSIGN_OR_RETURN(s.shared_intermediate,
                         ParallelLayout::Shard(c.n_shared_experts * c.moe_intermediate_size, l.attn_tp_size,
                                               l.attn_tp_rank, "n_shared_experts x moe_intermediate_size"));
  SIEVE_ASSIGN_OR_RETURN(s.experts, l.RoutedExperts(c.n_routed_experts));
  SIEVE_ASSIGN_OR_RETURN(s.expert_intermediate, l.ExpertIntermediate(c.moe_intermediate_size));
  s.vocab = {0, c.vocab_size};
  if (c.vocab_size % l.attn_tp_size == 0) {
    SIEVE_ASSIGN_OR_RETURN(s.vocab, ParallelLayout::Shard(c.vocab_size, l.attn_tp_size, l.attn_tp_rank, "vocab_size"));
  }
  return s;
}

}  // namespace sieve::model
