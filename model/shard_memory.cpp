// Per-rank checkpoint bytes (see shard_memory.h): each tensor's stored bytes times the share the rank holds
// (ModelShard::TensorShare), the block scales split alike.
#include "model/shard_memory.h"

#include <string>

#include "model/step_cost.h"
#include "model/tensor_names.h"

namespace sieve::model {

ShardMemory CountShardMemory(const ModelConfig& config, const ModelShard& shard, bool with_mtp) {
  ShardMemory m;
  const std::string mtp_begin = LayerPrefix(config.num_hidden_layers);
  for (const TensorSpec& t : ExpectedTensors(config)) {
    if (!with_mtp && t.name.rfind(mtp_begin, 0) == 0) break;  // the table lists the MTP layers last
    const double bytes = StoredBytes(t, config);
    m.total_bytes += bytes;
    m.rank_bytes += bytes * shard.TensorShare(t.name, config);
  }
  return m;
}

}  // namespace sieve::model
