// A small random checkpoint for model tests: the `tiny` preset (tiny-dsv32-a dimensions) with a 2048-entry
// vocabulary instead of 129280 (so it is ~10 MB, not ~280 MB) and small shards, written in-process.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "model/checkpoint_presets.h"
#include "model/checkpoint_writer.h"

namespace sieve::model::test_checkpoint {

inline ModelConfig TinyConfig(int64_t num_layers = 2) {
  ModelConfig c = FindCheckpointPreset("tiny").value().config;
  c.vocab_size = 2048;
  EXPECT_TRUE(SetNumLayers(num_layers, &c).ok());
  return c;
}

inline CheckpointWriterOptions Options(const std::string& dir, uint64_t seed = 1) {
  CheckpointWriterOptions o;
  o.out_dir = dir;
  o.seed = seed;
  o.shard_bytes = 2 << 20;  // several shards
  o.tokenizer_dir = std::string(SIEVE_SOURCE_DIR) + "/assets/tokenizer";
  return o;
}

// Writes TinyConfig() (optionally BF16-only) to `dir`; fails the test on error.
inline void WriteTiny(const std::string& dir, bool bf16 = false, uint64_t seed = 1) {
  ModelConfig c = TinyConfig();
  if (bf16) MakeBf16Only(&c);
  auto summary = WriteRandomCheckpoint(c, Options(dir, seed));
  ASSERT_TRUE(summary.ok()) << summary.status().ToString();
}

}  // namespace sieve::model::test_checkpoint
