// Writes a random checkpoint in the Hugging Face layout that model/checkpoint reads (docs/checkpoint_format.md):
// config.json, model-0000K-of-0000N.safetensors shards with model.safetensors.index.json, and the tokenizer
// files. Tensors come from model/random_weights and are streamed to disk in row chunks, so memory stays
// bounded (two 64 MB windows plus one 128-row block per thread) whatever the model size.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "core/status.h"
#include "model/config.h"

namespace sieve::model {

struct CheckpointWriterOptions {
  std::string out_dir;        // created if missing; must not already hold a checkpoint
  uint64_t seed = 0;
  uint64_t shard_bytes = 4ull << 30;  // target shard size; a larger single tensor gets a shard of its own
  std::string tokenizer_dir;  // tokenizer.json and tokenizer_config.json are copied from here; empty: none
  int num_threads = 0;        // 0: one per hardware thread
  // Called after each chunk written, from the calling thread.
  std::function<void(uint64_t bytes_done, uint64_t bytes_total)> progress;
};

struct CheckpointWriteSummary {
  uint64_t tensor_bytes = 0;  // = metadata.total_size of the index
  size_t num_tensors = 0;
  int num_shards = 0;
};

// Writes every tensor of ExpectedTensors(config); the result passes Checkpoint::Open. Deterministic: the
// same config and seed give byte-identical files whatever the thread count.
StatusOr<CheckpointWriteSummary> WriteRandomCheckpoint(const ModelConfig& config,
                                                      const CheckpointWriterOptions& options);

}  // namespace sieve::model
