// ForwardBatch: what one model step computes, as the engine's scheduler hands it over. Each entry is one
// sequence's chunk of new tokens (a whole prompt, a prefill chunk, or one decode token); the tokens before
// `start_pos` are already in the paged KV cache. Mixing prefill chunks and decodes in one batch is the
// normal case (chunked prefill, continuous batching).
#pragma once

#include <cstdint>
#include <vector>

#include "core/tensor.h"

namespace sieve::model {

struct SequenceChunk {
  std::vector<int32_t> token_ids;    // new tokens at positions start_pos .. start_pos + n - 1
  int64_t start_pos = 0;             // tokens already cached for this sequence
  std::vector<int32_t> block_table;  // KV blocks covering positions [0, start_pos + n)
  // Which logits to return: none (a non-final prefill chunk), the last token's (normal), or every
  // token's (prompt logprobs / echo, and the golden tests).
  enum class Logits { kNone, kLast, kAll } logits = Logits::kLast;
};

struct ForwardBatch {
  std::vector<SequenceChunk> seqs;
  // Also return every token's final-norm hidden state (ForwardOutput::all_hidden): the MTP draft layer
  // consumes the main model's hidden of every position it caches (speculative decoding).
  bool all_hidden = false;
};

struct ForwardOutput {
  // [n_rows, vocab_size]: rows in batch order, per sequence as many as its `logits` asks for.
  Tensor logits;
  // row_begin[i] = first row of seqs[i]; rows of seqs[i] are row_begin[i] .. row_begin[i+1]-1.
  std::vector<int64_t> row_begin;
  // [n_rows, hidden_size]: the final-norm hidden states of the same rows (the MTP layer's input).
  Tensor hidden;
  // [n_tokens, hidden_size], only when ForwardBatch::all_hidden: every token's final-norm hidden state,
  // in batch order (seqs[i]'s tokens follow those of seqs[0 .. i-1]).
  Tensor all_hidden;
};

}  // namespace sieve::model
