// Vocabulary-parallel embedding and head (see vocab_parallel.h).
#include "model/vocab_parallel.h"

#include <algorithm>
#include <vector>

#include "kernels/matmul.h"
#include "model/group_sum.h"
#include "parallel/mpi_runtime.h"

namespace sieve::model {

VocabParallel::VocabParallel(const kernels::WeightMatrix& whole, parallel::ShardRange rows)
    : local_(whole.Rows(rows.begin, rows.count)), rows_(rows), vocab_(whole.rows), hidden_(whole.cols) {}

void VocabParallel::Embed(const int32_t* ids, int64_t n, float* out, parallel::Communicator* group) const {
  for (int64_t t = 0; t < n; ++t) {
    const int64_t r = ids[t] - rows_.begin;
    if (r >= 0 && r < rows_.count) kernels::DequantizeRow(local_, r, out + t * hidden_);
    else std::fill(out + t * hidden_, out + (t + 1) * hidden_, 0.0f);  // another rank's row
  }
  if (split()) GroupSum(group, out, n * hidden_);
}

void VocabParallel::Logits(const float* x, int64_t m, float* logits, kernels::ThreadPool& pool,
                           parallel::Communicator* group) const {
  if (!split()) {
    kernels::Matmul(local_, x, m, logits, pool);
    return;
  }
  // [m, rows] here; the all-gather stacks the ranks' blocks [T][m][rows], which interleave into [m, vocab]
  // (rank r's rows start at r x rows, since the ranges are equal and in rank order).
  std::vector<float> mine(static_cast<size_t>(m * rows_.count));
  kernels::Matmul(local_, x, m, mine.data(), pool);
  std::vector<float> all(mine.size() * static_cast<size_t>(group->size()));
  if (Status s = group->AllGather(mine, all); !s.ok()) parallel::AbortJob(s);
  for (int r = 0; r < group->size(); ++r)
    for (int64_t i = 0; i < m; ++i)
      std::copy_n(all.data() + (r * m + i) * rows_.count, rows_.count, logits + i * vocab_ + r * rows_.count);
}

}  // namespace sieve::model
