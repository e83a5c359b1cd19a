// Engine: the serving engine's public API (submit / stream / abort), used by the server and the
// benchmark tools. Thread-safe; the model step loop runs on its own thread. Requests are validated
// completely in Submit (before they reach the scheduler); afterwards nothing a request says can fail
// the step loop.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "model/model.h"

namespace sieve::text {
class Tokenizer;
class JsonGrammar;
}

namespace sieve::engine {

class ReplicaSync;

// Per-request sampling, with vLLM's names and defaults (vllm/sampling_params.py).
struct SamplingParams {
  int n = 1;
  double temperature = 1.0;  // 0: greedy
  double top_p = 1.0;
  int top_k = 0;             // 0 or -1: off
  double min_p = 0.0;
  double presence_penalty = 0.0;
  double frequency_penalty = 0.0;
  double repetition_penalty = 1.0;
  std::map<int32_t, float> logit_bias;
  std::optional<uint64_t> seed;
  std::vector<std::string> stop;          // cut from the text, never emitted
  std::vector<int32_t> stop_token_ids;
  bool include_stop_str_in_output = false;
  int max_tokens = 16;
  int min_tokens = 0;
  bool ignore_eos = false;
  std::optional<int> logprobs;            // top-k logprobs of each sampled token (0 = only the sampled one)
  std::optional<int> prompt_logprobs;     // same for prompt tokens (echo + logprobs)
  bool skip_special_tokens = true;
  // Structured output (vLLM's structured outputs): each sampled token keeps the output a prefix of a
  // document of this grammar, and EOS / stop_token_ids are allowed only once the document is complete.
  // Needs a tokenizer. A choice left with no allowed token ends with finish_reason "stop" if its
  // document is complete (min_tokens forbade EOS) and "abort" otherwise.
  std::shared_ptr<const text::JsonGrammar> json_grammar;
  // The grammar applies only after this token was generated: the end of reasoning ("</think>") in
  // thinking mode, as vLLM waits for its reasoning parser's is_reasoning_end. Unset: from the start.
  std::optional<int32_t> grammar_after_token_id;
};

struct GenerationRequest {
  std::string request_id;
  std::vector<int32_t> prompt_ids;
  SamplingParams params;
};

struct TokenLogprob {
  int32_t token_id;
  float logprob;
  std::vector<std::pair<int32_t, float>> top;  // most likely first
};

// One update for one of the request's n choices. Text deltas never split a UTF-8 character; the
// concatenation of a choice's deltas is its final text with stop strings cut.
struct RequestOutput {
  std::string request_id;
  int index = 0;                           // choice index, 0..n-1
  std::vector<int32_t> new_token_ids;
  std::string text_delta;
  std::vector<TokenLogprob> logprobs;      // one per new token when logprobs were asked for
  std::vector<std::optional<TokenLogprob>> prompt_logprobs;  // first update only, when asked for
  bool finished = false;
  std::string finish_reason;               // "stop" | "length" | "abort" when finished
  std::optional<std::string> stop_reason;  // the stop string or token id that matched
  int64_t num_prompt_tokens = 0;
  int64_t num_cached_prompt_tokens = 0;    // served from the prefix cache
  int64_t num_output_tokens = 0;           // so far, for this choice
};

struct EngineOptions {
  int64_t max_num_seqs = 256;
  int64_t max_num_batched_tokens = 8192;
  int64_t max_model_len = 0;               // 0: from config (max_position_embeddings)
  int64_t block_size = 64;
  double kv_cache_memory_gib = 0;          // 0: use kv_cache_memory_fraction of free memory
  double kv_cache_memory_fraction = 0.5;
  std::string kv_cache_dtype = "auto";
  bool enable_prefix_caching = true;
  bool enable_chunked_prefill = true;
  std::optional<uint64_t> seed;            // default seed for requests without one
  // What logprobs describe (vLLM --logprobs-mode): "raw_logprobs" (the model's distribution, vLLM's
  // default) or "processed_logprobs" (the one sampled from: after bias, penalties, temperature, filters).
  std::string logprobs_mode = "raw_logprobs";
  // Speculative decoding with the checkpoint's MTP layer as the draft model (engine/speculative_config.h),
  // spelled as vLLM (--speculative-config JSON) or SGLang (--speculative-algorithm EAGLE and friends).
  std::string speculative_config;          // vLLM JSON, e.g. {"method":"deepseek_mtp","num_speculative_tokens":2}
  std::string speculative_algorithm;       // SGLang: EAGLE (or NEXTN, its alias for DeepSeek's MTP)
  int speculative_num_steps = 0;           // SGLang: draft tokens per step (K)
  int speculative_eagle_topk = 1;          // SGLang: only 1 (a single draft chain) is supported
  int speculative_num_draft_tokens = 0;    // SGLang: K + 1 (0: derived)
};

// Counters for /metrics and benchmarks (cumulative unless noted).
struct EngineStats {
  int64_t num_running = 0;                 // now
  int64_t num_waiting = 0;                 // now
  int64_t kv_blocks_total = 0;
  int64_t kv_blocks_used = 0;              // now
  int64_t kv_token_capacity = 0;
  int64_t prompt_tokens_total = 0;
  int64_t generation_tokens_total = 0;
  int64_t prefix_cache_queries = 0;        // tokens looked up
  int64_t prefix_cache_hits = 0;           // tokens found
  int64_t num_preemptions_total = 0;
  int64_t requests_finished_total = 0;
  int64_t steps_total = 0;
  // Speculative decoding (vLLM's spec_decode counters): verify steps of one sequence, draft tokens
  // proposed, draft tokens accepted, and accepted drafts by position in the draft (size K).
  int64_t spec_num_drafts = 0;
  int64_t spec_num_draft_tokens = 0;
  int64_t spec_num_accepted_tokens = 0;
  std::vector<int64_t> spec_accepted_per_pos;
};

class Engine {
 public:
  using OutputCallback = std::function<void(const RequestOutput&)>;

  // `tokenizer` may be null (id-only checkpoints): then stop strings are rejected and text is empty.
  // `replicas` (null unless this engine is one data-parallel replica of an mpirun job) keeps its steps in
  // step with the other replicas' (engine/replica_sync.h); it must outlive the engine.
  static StatusOr<std::unique_ptr<Engine>> Create(std::shared_ptr<model::Model> model,
                                                  std::shared_ptr<const text::Tokenizer> tokenizer,
                                                  const EngineOptions& options, ReplicaSync* replicas = nullptr);
  virtual ~Engine() = default;

  // Validates and queues a request; `callback` is then called from the engine thread for every
  // update until one with finished == true for each choice. Errors (prompt longer than max_model_len,
  // a prompt that can never fit in the cache, bad parameters) return InvalidArgument and no callback.
  virtual Status Submit(GenerationRequest request, OutputCallback callback) = 0;
  // Aborts a request if it is still running; its blocks are freed before the next step. The callback
  // gets a final update with finish_reason "abort".
  virtual void Abort(const std::string& request_id) = 0;
  virtual EngineStats Stats() const = 0;
  virtual int64_t max_model_len() const = 0;
  // Stops the step loop; queued and running requests are aborted.
  virtual void Shutdown() = 0;
};

}  // namespace sieve::engine
