// The engine's command-line flags, in one place for every subcommand that runs an engine (`sieve serve`,
// `sieve generate`, benchmarks). Names follow vLLM's where vLLM has the flag.
#pragma once

#include <CLI/CLI.hpp>

#include "engine/engine.h"

namespace sieve::engine {

// Adds --max-num-seqs, --max-num-batched-tokens, --max-model-len, --block-size, --kv-cache-memory,
// --kv-cache-memory-fraction, --kv-cache-dtype, --[no-]enable-prefix-caching, --[no-]enable-chunked-prefill,
// --seed, --logprobs-mode and the speculative-decoding flags (vLLM's and SGLang's) to `app`, writing into
// *options (which keeps its defaults for absent flags).
// Values are range-checked by Engine::Create, which reports them with the flag names.
void AddEngineFlags(CLI::App& app, EngineOptions* options);

}  // namespace sieve::engine
