// WeightMatrix: a read-only view of a projection weight W [rows, cols] exactly as the checkpoint stores
// it, so kernels read FP8 / BF16 bytes in place (no up-front conversion of the model).
//
// FP8 block format (DeepSeek-V3 checkpoints, `weight_block_size` [128, 128]): `data` holds e4m3 bytes,
// `scale_inv` F32 [ceil(total_rows/block_rows), ceil(cols/block_cols)]; despite its name it multiplies:
//   W[o, i] = e4m3(data[o, i]) * scale_inv[o / block_rows, i / block_cols]
// A partial last block (rows not a multiple of 128) has its own scale; memory is not padded.
// A view may be any sub-rectangle of the tensor (a tensor-parallel shard): the scale of each element is
// still looked up by its position in the whole tensor, so slices that cut a 128 x 128 block are exact.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/dtype.h"

namespace sieve::kernels {

class Fp8NanMemo;

struct WeightMatrix {
  DType dtype = DType::kF32;          // kF8E4M3 (needs scale_inv), kBF16, kF16 or kF32
  const std::byte* data = nullptr;    // [total_rows, cols] of the whole tensor
  int64_t row_begin = 0;              // first row of this view within the tensor (for scale lookup)
  int64_t rows = 0;                   // rows of this view
  int64_t cols = 0;
  const float* scale_inv = nullptr;   // [ceil(total_rows / block_rows), scale_cols]; FP8 only
  int64_t scale_cols = 0;
  int64_t block_rows = 128;
  int64_t block_cols = 128;
  int64_t col_begin = 0;    // first column of this view within the tensor (for data offset and scale lookup)
  int64_t tensor_cols = 0;  // columns of the whole tensor (the row pitch of `data`); 0: same as `cols`
  // FP8 only, optional: which rows of the whole tensor hold a NaN code, filled as the GEMV reads them
  // (kernels/fp8_nan_memo.h); null: the GEMV scans each tile it reads for NaN codes on every call.
  Fp8NanMemo* nan_memo = nullptr;

  // Rows [begin, begin + count) of this view, e.g. one head's slice of kv_b_proj.
  WeightMatrix Rows(int64_t begin, int64_t count) const {
    WeightMatrix w = *this;
    w.row_begin = row_begin + begin;
    w.rows = count;
    return w;
  }
  // Columns [begin, begin + count) of this view, e.g. a row-parallel shard's input columns (o_proj of the
  // local heads, down_proj of the local intermediate slice).
  WeightMatrix Cols(int64_t begin, int64_t count) const {
    WeightMatrix w = *this;
    w.tensor_cols = pitch();
    w.col_begin = col_begin + begin;
    w.cols = count;
    return w;
  }
  int64_t pitch() const { return tensor_cols > 0 ? tensor_cols : cols; }
  // Bytes of row r, column 0 (of this view) in `data`.
  const std::byte* RowBytes(int64_t r) const {
    return data + ((row_begin + r) * pitch() + col_begin) * static_cast<int64_t>(DTypeSize(dtype));
  }
  // The FP8 scale of view column c in the scale row `scales` (of this view's row).
  float ColumnScale(const float* scales, int64_t c) const { return scales[(col_begin + c) / block_cols]; }
};

}  // namespace sieve::kernels
