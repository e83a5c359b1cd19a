// Per-rank checkpoint bytes (see shard_memory.h): each tensor's stored bytes times the share of its split
// dimension the rank holds (model_shard.h), the block scales split alike.
#include "model/shard_memory.h"

#include <string>

#include "model/step_cost.h"
#include "model/tensor_names.h"

namespace sieve::model {
namespace {

bool Contains(const std::string& s, const char* part) { return s.find(part) != std::string::npos; }

double Share(const parallel::ShardRange& r, int64_t total) {
  return total > 0 ? static_cast<double>(r.count) / static_cast<double>(total) : 1.0;
}

// The fraction of tensor `name` this rank holds.
double RankShare(const std::string& name, const ModelConfig& c, const ModelShard& s) {
  if (Contains(name, ".self_attn.q_b_proj.") || Contains(name, ".self_attn.q_proj.") ||
      Contains(name, ".self_attn.kv_b_proj.") || Contains(name, ".self_attn.o_proj."))
    return Share(s.heads, c.num_attention_heads);
  if (Contains(name, ".indexer.wq_b.") || Contains(name, ".indexer.weights_proj."))
    return Share(s.index_heads, c.index_n_heads);
  if (const size_t at = name.find(".mlp.experts."); at != std::string::npos) {
    const int64_t e = std::stoll(name.substr(at + 13));
    const bool held = e >= s.experts.begin && e < s.experts.begin + s.experts.count;
    return held ? Share(s.expert_intermediate, c.moe_intermediate_size) : 0.0;
  }
  if (Contains(name, "embed_tokens.") || Contains(name, "lm_head.") || Contains(name, "shared_head.head."))
    return Share(s.vocab, c.vocab_size);
  if (Contains(name, ".mlp.shared_experts.")) return Share(s.shared_intermediate, c.moe_intermediate_size * c.n_shared_experts);
  if (Contains(name, ".mlp.gate_proj.") || Contains(name, ".mlp.up_proj.") || Contains(name, ".mlp.down_proj."))
    return Share(s.dense_intermediate, c.intermediate_size);
  return 1.0;  // replicated: norms, q_a / kv_a projections, indexer wk, router, MTP eh_proj
}

}  // namespace

ShardMemory CountShardMemory(const ModelConfig& config, const ModelShard& shard, bool with_mtp) {
  ShardMemory m;
  const std::string mtp_begin = LayerPrefix(config.num_hidden_layers);
  for (const TensorSpec& t : ExpectedTensors(config)) {
    if (!with_mtp && t.name.rfind(mtp_begin, 0) == 0) break;  // the table lists the MTP layers last
    const double bytes = StoredBytes(t, config);
    m.total_bytes += bytes;
    m.rank_bytes += bytes * RankShare(t.name, config, shard);
  }
  return m;
}

}  // namespace sieve::model
