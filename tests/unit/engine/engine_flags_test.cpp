// Engine flags: every flag lands in its EngineOptions field; absent flags keep the defaults.
#include "engine/engine_flags.h"

#include <gtest/gtest.h>

namespace sieve::engine {
namespace {

EngineOptions Parse(std::vector<std::string> args) {
  CLI::App app;
  EngineOptions o;
  AddEngineFlags(app, &o);
  std::reverse(args.begin(), args.end());  // CLI11 takes the vector in reverse order
  app.parse(args);
  return o;
}

TEST(EngineFlags, AbsentFlagsKeepDefaults) {
  const EngineOptions o = Parse({});
  const EngineOptions d;
  EXPECT_EQ(o.max_num_seqs, d.max_num_seqs);
  EXPECT_EQ(o.block_size, d.block_size);
  EXPECT_TRUE(o.enable_prefix_caching);
  EXPECT_FALSE(o.seed.has_value());
}

TEST(EngineFlags, EveryFlagSetsItsField) {
  const EngineOptions o = Parse({"--max-num-seqs", "8", "--max-num-batched-tokens", "1024", "--max-model-len", "4096",
                                 "--block-size", "16", "--kv-cache-memory", "2.5", "--kv-cache-memory-fraction", "0.3",
                                 "--kv-cache-dtype", "fp8", "--no-enable-prefix-caching", "--no-enable-chunked-prefill",
                                 "--seed", "77", "--logprobs-mode", "processed_logprobs"});
  EXPECT_EQ(o.max_num_seqs, 8);
  EXPECT_EQ(o.max_num_batched_tokens, 1024);
  EXPECT_EQ(o.max_model_len, 4096);
  EXPECT_EQ(o.block_size, 16);
  EXPECT_DOUBLE_EQ(o.kv_cache_memory_gib, 2.5);
  EXPECT_DOUBLE_EQ(o.kv_cache_memory_fraction, 0.3);
  EXPECT_EQ(o.kv_cache_dtype, "fp8");
  EXPECT_FALSE(o.enable_prefix_caching);
  EXPECT_FALSE(o.enable_chunked_prefill);
  EXPECT_EQ(o.seed, 77u);
  EXPECT_EQ(o.logprobs_mode, "processed_logprobs");
  EXPECT_TRUE(Parse({"--enable-prefix-caching"}).enable_prefix_caching);
}

TEST(EngineFlags, NonNumericValueIsAUsageError) {
  EXPECT_THROW(Parse({"--max-num-seqs", "many"}), CLI::ParseError);
}

}  // namespace
}  // namespace sieve::engine
