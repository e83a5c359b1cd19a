// The rank's ranges of every split dimension (see model_shard.h).
#include "model/model_shard.h"

namespace sieve::model {
namespace {

bool Contains(const std::string& s, const char* part) { return s.find(part) != std::string::npos; }

double Share(const parallel::ShardRange& r, int64_t total) {
  return total > 0 ? static_cast<double>(r.count) / static_cast<double>(total) : 1.0;
}

}  // namespace

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


double ModelShard::TensorShare(const std::string& name, const ModelConfig& c) const {
  if (Contains(name, ".self_attn.q_b_proj.") || Contains(name, ".self_attn.q_proj.") ||
      Contains(name, ".self_attn.kv_b_proj.") || Contains(name, ".self_attn.o_proj."))
    return Share(heads, c.num_attention_heads);
  if (Contains(name, ".indexer.wq_b.") || Contains(name, ".indexer.weights_proj."))
    return Share(index_heads, c.index_n_heads);
  if (const size_t at = name.find(".mlp.experts."); at != std::string::npos) {
    const int64_t e = std::stoll(name.substr(at + 13));
    const bool held = e >= experts.begin && e < experts.begin + experts.count;
    return held ? Share(expert_intermediate, c.moe_intermediate_size) : 0.0;
  }
  if (Contains(name, "embed_tokens.") || Contains(name, "lm_head.") || Contains(name, "shared_head.head."))
    return Share(vocab, c.vocab_size);
  if (Contains(name, ".mlp.shared_experts.")) return Share(shared_intermediate, c.moe_intermediate_size * c.n_shared_experts);
  if (Contains(name, ".mlp.gate_proj.") || Contains(name, ".mlp.up_proj.") || Contains(name, ".mlp.down_proj."))
    return Share(dense_intermediate, c.intermediate_size);
  return 1.0;  // replicated: norms, q_a / kv_a projections, indexer wk, router, MTP eh_proj
}

}  // namespace sieve::model
