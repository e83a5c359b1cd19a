// FLOPs of the two MLA forms (see mla_form.h).
#include "model/mla_form.h"

namespace sieve::model {

double AbsorbedMlaFlops(const ModelConfig& c, const MlaWork& w) {
  const double per_query = 2.0 * (c.qk_nope_head_dim + c.v_head_dim) * c.kv_lora_rank;
  const double per_pair = 2.0 * (2 * c.kv_lora_rank + c.qk_rope_head_dim);
  return static_cast<double>(w.heads) * (static_cast<double>(w.queries) * per_query + w.attended * per_pair);
}

double ExpandedMlaFlops(const ModelConfig& c, const MlaWork& w) {
  const double per_key = 2.0 * (c.qk_nope_head_dim + c.v_head_dim) * c.kv_lora_rank;
  const double per_pair = 2.0 * (c.qk_nope_head_dim + c.qk_rope_head_dim + c.v_head_dim);
  return static_cast<double>(w.heads) * (static_cast<double>(w.keys) * per_key + w.attended * per_pair);
}

bool UseExpandedMla(const ModelConfig& c, const MlaWork& w) { return ExpandedMlaFlops(c, w) < AbsorbedMlaFlops(c, w); }

}  // namespace sieve::model
