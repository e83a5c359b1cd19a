// ForwardContext: what every layer of one Forward call shares besides the token rows: the thread pool,
// the attention mode, the groups that sum partial results and the optional trace.
#pragma once

#include "kernels/thread_pool.h"
#include "model/forward_trace.h"
#include "parallel/communicator.h"

namespace sieve::model {

struct ForwardContext {
  kernels::ThreadPool* pool = nullptr;
  bool dense_attention = false;   // attend to every causal token even when an indexer exists
  ForwardTrace* trace = nullptr;  // records intermediates when non-null (tests)
  // Null: this process computes the whole model. Otherwise attention, indexer scores, dense MLP and shared
  // expert are summed over `attention_group` (the attention-TP group), routed experts over `moe_group`.
  parallel::Communicator* attention_group = nullptr;
  parallel::Communicator* moe_group = nullptr;
};

}  // namespace sieve::model
