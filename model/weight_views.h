// Checkpoint tensors as kernel views: projection weights stay in their stored dtype (FP8 blocks are read
// in place by the kernels); only the small vectors (norm weights, biases) are converted to fp32 at load.
#pragma once

#include <vector>

#include "kernels/weight_matrix.h"
#include "model/checkpoint.h"

namespace sieve::model {

// A Linear weight (FP8 + weight_scale_inv, or BF16/F16/F32) as a kernel view.
kernels::WeightMatrix LinearMatrix(const LinearWeight& w);
// A never-quantised matrix (embeddings, lm_head, router gate, weights_proj, eh_proj).
kernels::WeightMatrix DenseMatrix(const ConstTensorView& v);
// A vector (norm weight or bias) in fp32; BF16 values are exact in fp32.
std::vector<float> FloatVector(const ConstTensorView& v);

}  // namespace sieve::model
