// Checkpoint tensors as kernel views (see weight_views.h).
#include "model/weight_views.h"

namespace sieve::model {

kernels::WeightMatrix LinearMatrix(const LinearWeight& w) {
  kernels::WeightMatrix m = DenseMatrix(w.weight);
  if (w.scale_inv != nullptr) {
    m.scale_inv = w.scale_inv->as<float>();
    m.scale_cols = w.scale_inv->shape[1];
    m.block_rows = w.block_rows;
    m.block_cols = w.block_cols;
    m.nan_memo = w.nan_memo;
  }
  return m;
}

kernels::WeightMatrix DenseMatrix(const ConstTensorView& v) {
  kernels::WeightMatrix m;
  m.dtype = v.dtype;
  m.data = v.data;
  m.rows = v.shape[0];
  m.cols = v.shape[1];
  return m;
}

std::vector<float> FloatVector(const ConstTensorView& v) { return ToFloatTensor(v).data; }

}  // namespace sieve::model
