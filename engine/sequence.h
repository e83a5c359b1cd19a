// Request and Sequence: the scheduler's view of one submitted request and of each of its n choices
// (nano-vllm's Sequence). A sequence's tokens are the prompt then its outputs; `num_computed_tokens` of
// them are in the KV cache, in the blocks of its block table.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "engine/stop_checker.h"
#include "text/incremental_detokenizer.h"
#include "text/json_recognizer.h"

namespace sieve::engine {

struct Request;

enum class SequenceStatus {
  kWaiting,        // queued for (re)computing its tokens
  kRunning,        // holds blocks, advances every step it is scheduled
  kAwaitingFork,   // choice 1..n-1 before choice 0 has computed the shared prompt
  kFinished,
};

struct Sequence {
  // `tokenizer` may be null (id-only checkpoints): then the choice has no text.
  Sequence(Request* request, int index, std::span<const int32_t> prompt_ids, uint64_t seed, int32_t eos_token_id,
           int64_t max_model_len, const text::Tokenizer* tokenizer);

  int64_t num_tokens() const { return static_cast<int64_t>(token_ids.size()); }
  int64_t num_output_tokens() const { return num_tokens() - num_prompt_tokens; }
  std::span<const int32_t> prompt_ids() const { return {token_ids.data(), static_cast<size_t>(num_prompt_tokens)}; }
  std::span<const int32_t> output_ids() const {
    return {token_ids.data() + num_prompt_tokens, static_cast<size_t>(num_output_tokens())};
  }

  Request* request;
  int index;                         // choice index
  std::vector<int32_t> token_ids;    // prompt, then outputs
  int64_t num_prompt_tokens;
  int64_t num_computed_tokens = 0;   // tokens whose KV entries are in the cache
  std::vector<int32_t> block_table;  // covers positions [0, num_computed_tokens + scheduled)
  int64_t num_hashed_blocks = 0;     // leading full blocks registered with the prefix cache
  uint64_t last_block_hash = 0;      // chain hash of block num_hashed_blocks - 1 (0 before the first)
  SequenceStatus status = SequenceStatus::kWaiting;
  // Speculative decoding: the MTP layer's first draft for the token after token_ids.back(), and its
  // hidden row [hidden_size] (the input of the next draft step); set by the step that sampled
  // token_ids.back(), cleared when the sequence loses its cache (preemption).
  std::optional<int32_t> first_draft;
  std::vector<float> first_draft_hidden;
  std::mt19937_64 rng;               // the choice's own generator (seeded requests reproduce)
  StopChecker stop;
  std::unique_ptr<text::IncrementalDetokenizer> detokenizer;  // null without a tokenizer
  const text::Tokenizer* tokenizer;  // may be null
  // Structured output: the document so far (null without a grammar), and whether the grammar applies
  // yet (it waits for params.grammar_after_token_id when that is set).
  std::unique_ptr<text::JsonRecognizer> grammar;
  bool grammar_active = false;
};

struct Request {
  std::string id;
  SamplingParams params;
  int64_t arrival = 0;               // submission order: FCFS priority, lower first
  int64_t num_prompt_tokens = 0;
  int64_t num_cached_prompt_tokens = 0;  // prefix-cache hit of the first admission
  bool admitted = false;                 // choice 0 has been admitted once
  int num_unfinished = 0;
  bool prompt_logprobs_sent = false;
  std::vector<std::optional<TokenLogprob>> prompt_logprobs;  // [num_prompt_tokens] as they are computed
  std::vector<std::unique_ptr<Sequence>> choices;            // [n]
};

// A request and its n choices, choice i seeded with (seed, i).
std::unique_ptr<Request> MakeRequest(GenerationRequest request, int64_t arrival, uint64_t seed,
                                     int32_t eos_token_id, int64_t max_model_len, const text::Tokenizer* tokenizer);

}  // namespace sieve::engine
