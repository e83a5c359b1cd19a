// The engine's command-line flags.
#include "engine/engine_flags.h"

namespace sieve::engine {

void AddEngineFlags(CLI::App& app, EngineOptions* o) {
  app.add_option("--max-num-seqs", o->max_num_seqs, "Most sequences running at once (one per choice)")
      ->capture_default_str();
  app.add_option("--max-num-batched-tokens", o->max_num_batched_tokens,
                 "Most tokens computed in one step (prefill chunks + decodes)")
      ->capture_default_str();
  app.add_option("--max-model-len", o->max_model_len,
                 "Context length in tokens, prompt + output (0: the model's max_position_embeddings)")
      ->capture_default_str();
  app.add_option("--block-size", o->block_size, "Tokens per KV-cache block")->capture_default_str();
  app.add_option("--kv-cache-memory", o->kv_cache_memory_gib,
                 "KV-cache size in GiB (0: --kv-cache-memory-fraction of the available memory)")
      ->capture_default_str();
  app.add_option("--kv-cache-memory-fraction", o->kv_cache_memory_fraction,
                 "Fraction of the available memory for the KV cache when --kv-cache-memory is 0 "
                 "(like vLLM's --gpu-memory-utilization)")
      ->capture_default_str();
  app.add_option("--kv-cache-dtype", o->kv_cache_dtype, "KV-cache dtype: auto, float32, bf16, fp8")
      ->capture_default_str();
  app.add_flag("--enable-prefix-caching,!--no-enable-prefix-caching", o->enable_prefix_caching,
               "Share full KV blocks across requests by content hash (on by default)");
  app.add_flag("--enable-chunked-prefill,!--no-enable-chunked-prefill", o->enable_chunked_prefill,
               "Split long prompts into chunks that share steps with decodes (on by default)");
  app.add_option_function<uint64_t>(
      "--seed", [o](const uint64_t& seed) { o->seed = seed; },
      "Seed for requests that bring none (default: random)");
  app.add_option("--logprobs-mode", o->logprobs_mode,
                 "What logprobs describe: raw_logprobs (the model's distribution) or processed_logprobs "
                 "(the sampled one)")
      ->capture_default_str();
  app.add_option("--speculative-config", o->speculative_config,
                 "vLLM speculative decoding: '{\"method\":\"deepseek_mtp\",\"num_speculative_tokens\":K}'");
  app.add_option("--speculative-algorithm", o->speculative_algorithm,
                 "SGLang speculative decoding: EAGLE (DeepSeek's MTP layer drafts)");
  app.add_option("--speculative-num-steps", o->speculative_num_steps, "SGLang: draft tokens per step (K)");
  app.add_option("--speculative-eagle-topk", o->speculative_eagle_topk, "SGLang: draft branching (only 1)")
      ->capture_default_str();
  app.add_option("--speculative-num-draft-tokens", o->speculative_num_draft_tokens, "SGLang: K + 1");
}

}  // namespace sieve::engine
