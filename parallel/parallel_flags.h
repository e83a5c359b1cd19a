// The parallel-layout flags, shared by every subcommand that runs a model (`sieve serve`, `sieve generate`,
// `sieve bench latency|throughput`): vLLM's names with SGLang's aliases.
#pragma once

#include <CLI/CLI.hpp>

#include "parallel/parallel_layout.h"

namespace sieve::parallel {

// --tensor-parallel-size (--tp, --tp-size), --data-parallel-size (--dp, --dp-size),
// --enable-expert-parallel, --ep (--ep-size, SGLang's expert-parallel size) and --enable-dp-attention.
// ParallelLayout::Create checks them against the number of processes.
void AddParallelFlags(CLI::App& app, ParallelConfig* config);

}  // namespace sieve::parallel
