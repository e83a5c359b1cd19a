// Top-k selection for the lightning indexer (DeepSeek-V3.2-Exp inference/model.py, Indexer.forward:
// index_score.topk(min(index_topk, end_pos))): the positions of the k highest scores among n.
#pragma once

#include <cstdint>

namespace sieve::kernels {

// positions [k], ascending: the k highest of scores[0, n) under the strict order (higher score, then
// lower position), so ties at the boundary go to the lower positions; 0 < k <= n. Scores must not be NaN.
void TopKPositions(const float* scores, int64_t n, int64_t k, int32_t* positions);

}  // namespace sieve::kernels
