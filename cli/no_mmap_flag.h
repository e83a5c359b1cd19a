// --no-mmap (llama.cpp's name; vLLM and SGLang have no such flag): the subcommands that load a checkpoint
// read it into memory instead of mapping its files (model::WeightLoad::kInMemory).
#pragma once

#include <CLI/CLI.hpp>

#include "model/checkpoint.h"

namespace sieve::cli {

inline void AddNoMmapFlag(CLI::App& cmd, bool* no_mmap) {
  cmd.add_flag("--no-mmap", *no_mmap,
               "Copy the weights into memory (huge pages, each tensor on a cache line) instead of mapping the "
               "checkpoint files: a slower start and the checkpoint's size in RAM that the page cache cannot "
               "evict; batch-1 decode a few percent faster");
}

inline model::WeightLoad WeightLoadFor(bool no_mmap) {
  return no_mmap ? model::WeightLoad::kInMemory : model::WeightLoad::kMapped;
}

}  // namespace sieve::cli
