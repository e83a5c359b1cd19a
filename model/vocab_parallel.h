// Vocabulary-parallel embedding and LM head (Megatron-LM's VocabParallelEmbedding, vLLM's ParallelLMHead):
// rank t of an attention-TP group of T holds vocabulary rows [t V/T, (t+1) V/T) of embed_tokens and of the
// head, so on the real model each rank maps 2 x 0.93 GB / T instead of 2 x 0.93 GB, and a decode step reads
// 1/T of the head. A token's embedding comes from the rank that holds its row (the others add zeros: one
// all-reduce of [n, hidden]); each rank computes the logits of its rows and an all-gather assembles
// [m, vocab]. A vocabulary that does not divide by T stays whole on every rank (no communication).
#pragma once

#include <cstdint>

#include "kernels/thread_pool.h"
#include "kernels/weight_matrix.h"
#include "parallel/communicator.h"
#include "parallel/parallel_layout.h"

namespace sieve::model {

class VocabParallel {
 public:
  // `whole` [vocab, hidden] (embed_tokens or a head); `rows` this rank's range of the vocabulary;
  // `group` the attention-TP group (null or of one rank: nothing is split).
  VocabParallel(const kernels::WeightMatrix& whole, parallel::ShardRange rows);

  // out [n, hidden] <- the rows of ids[0, n). Collective over `group` when the vocabulary is split.
  void Embed(const int32_t* ids, int64_t n, float* out, parallel::Communicator* group) const;
  // logits [m, vocab] <- x [m, hidden] times the head's rows. Collective over `group` when split.
  void Logits(const float* x, int64_t m, float* logits, kernels::ThreadPool& pool,
              parallel::Communicator* group) const;

 private:
  bool split() const { return rows_.count < vocab_; }

  kernels::WeightMatrix local_;  // rows [rows_.begin, rows_.begin + rows_.count)
  parallel::ShardRange rows_;
  int64_t vocab_, hidden_;
};

}  // namespace sieve::model
