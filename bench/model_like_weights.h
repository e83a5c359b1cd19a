// Weights for the kernel benchmarks, drawn as `sieve make-checkpoint` draws a linear layer
// (model/random_weights.h: Gaussian with std 1 / sqrt(cols), a per-128x128-block factor, FP8 as DeepSeek's
// block quantisation), so a kernel sees the value distribution of a model. Random bytes would not do: they
// put 1/16 of e4m3 codes on subnormals and give bf16 / f32 weights tiny exponents whose products
// underflow, and on Intel CPUs every subnormal operand or result of an FMA costs a microcode assist
// (about a hundred times the FMA): such data measured the assists, 3-40x below what the model runs at
// (docs/performance.md, round 11).
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "core/dtype.h"
#include "kernels/fp8_nan_memo.h"
#include "kernels/weight_matrix.h"
#include "model/random_weights.h"

namespace sieve::bench {

struct ModelLikeWeights {
  std::vector<uint8_t> bytes;
  std::vector<float> scales;                          // FP8 only: [row blocks, col blocks] weight_scale_inv
  std::unique_ptr<kernels::Fp8NanMemo> nan_memo;      // as a checkpoint's FP8 tensors have (model/checkpoint.h)
  kernels::WeightMatrix view;
};

// A [rows x cols] matrix of `dtype` (F32, BF16 or F8_E4M3), the same values on every call.
inline ModelLikeWeights MakeModelLikeWeights(DType dtype, int64_t rows, int64_t cols) {
  model::WeightRecipe recipe;
  recipe.std = 1.0f / std::sqrt(static_cast<float>(cols));
  recipe.per_block_factor = true;
  recipe.dtype = dtype;
  recipe.fp8_blocks = dtype == DType::kF8E4M3;
  recipe.stream = 1;
  ModelLikeWeights w;
  w.bytes.resize(static_cast<size_t>(rows * cols * DTypeSize(dtype)));
  const int64_t col_blocks = (cols + recipe.block_cols - 1) / recipe.block_cols;
  if (recipe.fp8_blocks) w.scales.resize(static_cast<size_t>(((rows + recipe.block_rows - 1) / recipe.block_rows) * col_blocks));
  std::vector<float> scratch;
  model::GenerateRows(recipe, {rows, cols}, 0, rows, reinterpret_cast<std::byte*>(w.bytes.data()), w.scales.data(), &scratch);
  w.view = {dtype, reinterpret_cast<const std::byte*>(w.bytes.data()), 0, rows, cols};
  if (recipe.fp8_blocks) {
    w.view.scale_inv = w.scales.data();
    w.view.scale_cols = col_blocks;
    w.nan_memo = std::make_unique<kernels::Fp8NanMemo>(w.bytes.data(), rows, cols);
    w.view.nan_memo = w.nan_memo.get();
  }
  return w;
}

}  // namespace sieve::bench
