// The bytes one rank all-reduces in a forward step (docs/parallelism.md, "Communication per decode step"),
// for the benchmark that prints them next to what the communicators counted. Per token of the step, fp32:
//   - attention o_proj (row-parallel over the attention-TP group): hidden, every layer;
//   - dense MLP down_proj (same group): hidden, every dense layer;
//   - MoE combine: hidden, every MoE layer (over the world without DP; with DP the attention group's
//     all-reduce of row shares, after the all-to-all dispatch/combine, which this does not count: its
//     volume depends on where the tokens are routed);
//   - vocabulary-parallel embedding (vocab_parallel.h): hidden, once, when the vocabulary is split;
//   - indexer scores (summed over the index heads of the group): its causal keys, every layer, for a token
//     that chooses among more than index_topk keys.
// Every term is per token, so prefill chunking does not change the total. A group of one sends nothing.
// Not all-reduced, so not counted here: the vocabulary-parallel head's all-gather of m x vocab logits
// (m = rows whose logits the step returns).
#pragma once

#include "model/config.h"
#include "model/step_cost.h"
#include "parallel/parallel_layout.h"

namespace sieve::model {

// Bytes this rank passes to all-reduces in one step of `shape` (num_seqs x new_tokens at context_len).
double CountAllReduceBytes(const ModelConfig& config, const parallel::ParallelLayout& layout, const StepShape& shape);

}  // namespace sieve::model
