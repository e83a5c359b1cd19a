// Random checkpoint tensors for `sieve make-checkpoint`: how each tensor of the table is drawn so a
// random model keeps O(1) activations, and its FP8 block quantisation. The recipe is the one of
// ../shared/fixtures/tiny-dsv32-a ("How it was made"). Every element is a pure function of
// (seed, tensor name, element index), so any row range can be generated alone, by any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/dtype.h"
#include "model/config.h"
#include "model/tensor_names.h"

namespace sieve::model {

struct WeightRecipe {
  enum class Distribution {
    kGaussian,         // std * z, times a per-block factor for FP8-style linears
    kOnePlusGaussian,  // norm weights: 1 + std * z
    kUniform,          // router bias: U[-std, std]
  };
  Distribution distribution = Distribution::kGaussian;
  float std = 1.0f;
  bool per_block_factor = false;  // each 128x128 block scaled by a factor log-uniform in [1/2, 2]
  DType dtype = DType::kBF16;     // stored dtype of the tensor itself
  bool fp8_blocks = false;        // F8_E4M3 with an F32 weight_scale_inv beside it
  int64_t block_rows = 128, block_cols = 128;
  uint64_t stream = 0;            // random stream (equal for the MTP embedding / head and their originals)
};

WeightRecipe RecipeFor(const TensorSpec& spec, const ModelConfig& config, uint64_t seed);

// Rows and columns of a tensor as the generator walks it: 2-D shapes as they are, 1-D as one row.
int64_t GeneratorRows(const Shape& shape);
int64_t GeneratorCols(const Shape& shape);

// Writes rows [row_begin, row_end) of the tensor, in its stored dtype, to `out`
// ((row_end - row_begin) * cols * DTypeSize(dtype) bytes). For FP8 tensors row_begin must be a multiple of
// block_rows, and the scales of those row blocks go to `scale_out` ([row blocks, ceil(cols/block_cols)],
// row-major, starting at row block row_begin / block_rows). `scratch` is reused float storage (one row
// block), kept by the caller so repeated calls do not allocate.
void GenerateRows(const WeightRecipe& recipe, const Shape& shape, int64_t row_begin, int64_t row_end,
                  std::byte* out, float* scale_out, std::vector<float>* scratch);

}  // namespace sieve::model
