// ForwardContext: what every layer of one Forward call shares besides the token rows: the thread pool,
// the attention mode and the optional trace.
#pragma once

#include "kernels/thread_pool.h"
#include "model/forward_trace.h"

namespace sieve::model {

struct ForwardContext {
  kernels::ThreadPool* pool = nullptr;
  bool dense_attention = false;   // attend to every causal token even when an indexer exists
  ForwardTrace* trace = nullptr;  // records intermediates when non-null (tests)
};

}  // namespace sieve::model
