// The parallel-layout flags.
#include "parallel/parallel_flags.h"

namespace sieve::parallel {

void AddParallelFlags(CLI::App& app, ParallelConfig* c) {
  app.add_option("--tensor-parallel-size,--tp,--tp-size", c->tensor_parallel_size,
                 "Ranks splitting attention heads and dense MLPs (with --enable-dp-attention: all ranks)")
      ->capture_default_str();
  app.add_option("--data-parallel-size,--dp,--dp-size", c->data_parallel_size,
                 "Data-parallel replicas, each keeping its own requests' KV cache")
      ->capture_default_str();
  app.add_flag("--enable-expert-parallel", c->enable_expert_parallel,
               "Place whole routed experts on ranks instead of splitting each expert's intermediate dimension");
  app.add_option("--ep,--ep-size", c->expert_parallel_size,
                 "SGLang's expert-parallel size: 1, or the number of processes (= --enable-expert-parallel)");
  app.add_flag("--enable-dp-attention", c->enable_dp_attention,
               "SGLang's data-parallel attention: --tp is the world, split into --dp attention groups");
}

}  // namespace sieve::parallel
