// --no-mmap (llama.cpp's name; vLLM and SGLang have no such flag): the subcommands that load a checkpoint
// read it into memory instead of mapping its files (model::WeightLoad::kInMemory).
#pragma once

#include <CLI/CLI.hpp>

#include <string>

#include "core/status.h"
#include "model/checkpoint.h"
#include "parallel/parallel_layout.h"

namespace sieve::cli {

inline void AddNoMmapFlag(CLI::App& cmd, bool* no_mmap) {
  cmd.add_flag("--no-mmap", *no_mmap,
               "Copy the weights into memory (huge pages, each tensor on a cache line) instead of mapping the "
               "checkpoint files: a slower start and the checkpoint's size in RAM that the page cache cannot "
               "evict; batch-1 decode a few percent faster. One process only (not under mpirun)");
}

inline model::WeightLoad WeightLoadFor(bool no_mmap) {
  return no_mmap ? model::WeightLoad::kInMemory : model::WeightLoad::kMapped;
}

// The copy is of the whole checkpoint, not of a rank's share, and the ranks of one node would each check
// the node's memory alone, so under mpirun the flag is a usage error (every rank meets it; rank 0 prints).
inline Status CheckNoMmapLayout(bool no_mmap, const parallel::ParallelLayout& layout) {
  if (!no_mmap || layout.world_size == 1) return Status::Ok();
  return Status::InvalidArgument("--no-mmap copies the whole checkpoint into every process; under mpirun (" +
                                 std::to_string(layout.world_size) +
                                 " processes) leave it out, so that each rank maps only its share");
}

}  // namespace sieve::cli
