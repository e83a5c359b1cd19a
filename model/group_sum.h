// GroupSum: the all-reduce that completes a row-parallel product (o_proj, down_proj, the MoE combine, the
// indexer's per-head score sum) over the ranks that each computed a part of it.
#pragma once

#include <cstdint>

#include "parallel/communicator.h"

namespace sieve::model {

// data[0, n) <- its sum over `group`. Nothing to do for a null group or a group of one. A failed collective
// (a rank died or hung past its deadline) cannot be retried, so it ends the whole job with its message.
void GroupSum(parallel::Communicator* group, float* data, int64_t n);

}  // namespace sieve::model
