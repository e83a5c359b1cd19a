// ParallelLayout: normalizing vLLM's and SGLang's parallel flags into one rank layout.
#include "parallel/parallel_layout.h"

#include <fmt/format.h>

namespace sieve::parallel {

StatusOr<ParallelLayout> ParallelLayout::Create(const ParallelConfig& c, int world_size, int world_rank) {
  if (c.tensor_parallel_size < 1 || c.data_parallel_size < 1) {
    return Status::InvalidArgument(fmt::format("--tensor-parallel-size {} and --data-parallel-size {} must be >= 1",
                                               c.tensor_parallel_size, c.data_parallel_size));
  }
  if (world_rank < 0 || world_rank >= world_size) {
    return Status::InvalidArgument(fmt::format("rank {} is outside a world of {}", world_rank, world_size));
  }
  ParallelLayout l;
  l.world_size = world_size;
  l.world_rank = world_rank;
  l.dp_size = c.data_parallel_size;
  if (c.enable_dp_attention) {  // SGLang: --tp is the world, split into --dp attention groups
    if (c.tensor_parallel_size != world_size) {
      return Status::InvalidArgument(fmt::format(
          "--enable-dp-attention: --tp {} must equal the number of processes ({})", c.tensor_parallel_size,
          world_size));
    }
    if (c.tensor_parallel_size % c.data_parallel_size != 0) {
      return Status::InvalidArgument(fmt::format("--enable-dp-attention: --tp {} is not divisible by --dp {}",
                                                 c.tensor_parallel_size, c.data_parallel_size));
    }
    l.attn_tp_size = c.tensor_parallel_size / c.data_parallel_size;
  } else {
    if (c.tensor_parallel_size * c.data_parallel_size != world_size) {
      return Status::InvalidArgument(fmt::format(
          "--tensor-parallel-size {} x --data-parallel-size {} needs {} processes, but mpirun started {}",
          c.tensor_parallel_size, c.data_parallel_size, c.tensor_parallel_size * c.data_parallel_size,
          world_size));
    }
    l.attn_tp_size = c.tensor_parallel_size;
  }
  l.dp_rank = world_rank / l.attn_tp_size;
  l.attn_tp_rank = world_rank % l.attn_tp_size;

  const bool ep = c.enable_expert_parallel || c.expert_parallel_size > 1;
  if (c.expert_parallel_size != 0 && c.expert_parallel_size != 1 && c.expert_parallel_size != world_size) {
    return Status::InvalidArgument(fmt::format(
        "--ep {} must be 1 or the number of processes ({}): experts are split over every rank",
        c.expert_parallel_size, world_size));
  }
  l.moe_ep_size = ep ? world_size : 1;
  l.moe_ep_rank = ep ? world_rank : 0;
  l.moe_tp_size = ep ? 1 : world_size;
  l.moe_tp_rank = ep ? 0 : world_rank;
  return l;
}

StatusOr<ShardRange> ParallelLayout::Shard(int64_t total, int parts, int index, std::string_view what) {
  if (parts < 1 || index < 0 || index >= parts) {
    return Status::InvalidArgument(fmt::format("{}: shard {} of {} does not exist", what, index, parts));
  }
  if (total % parts != 0) {
    return Status::InvalidArgument(fmt::format("{} = {} is not divisible by {} ranks", what, total, parts));
  }
  const int64_t count = total / parts;
  return ShardRange{count * index, count};
}

StatusOr<ShardRange> ParallelLayout::AttentionHeads(int64_t num_heads) const {
  return Shard(num_heads, attn_tp_size, attn_tp_rank, "attention heads");
}

StatusOr<ShardRange> ParallelLayout::RoutedExperts(int64_t num_experts) const {
  return Shard(num_experts, moe_ep_size, moe_ep_rank, "n_routed_experts");
}

StatusOr<ShardRange> ParallelLayout::ExpertIntermediate(int64_t moe_intermediate_size) const {
  return Shard(moe_intermediate_size, moe_tp_size, moe_tp_rank, "moe_intermediate_size");
}

std::string ParallelLayout::Describe() const {
  return fmt::format("TP={} DP={} EP={} (rank {}: dp {}, attention-tp {}, moe {} {})", attn_tp_size, dp_size,
                     moe_ep_size, world_rank, dp_rank, attn_tp_rank, moe_ep_size > 1 ? "ep" : "tp",
                     moe_ep_size > 1 ? moe_ep_rank : moe_tp_rank);
}

}  // namespace sieve::parallel
