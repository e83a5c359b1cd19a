// Random tensor generation and FP8 128x128 block quantisation for make-checkpoint.
#include "model/random_weights.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string_view>
#include <vector>

#include "core/logging.h"

namespace sieve::model {

namespace {

constexpr uint64_t kGolden = 0x9e3779b97f4a7c15ull;
constexpr float kE4m3Max = 448.0f;

// The SplitMix64 output function (Steele, Lea, Flood, "Fast splittable pseudorandom number generators",
// OOPSLA 2014). Applied to (stream + index * golden) it is a counter-based generator: element i of a tensor
// never depends on which thread or chunk produced elements before it.
inline uint64_t Mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

inline uint64_t Draw(uint64_t stream, uint64_t index) { return Mix64(stream + (index + 1) * kGolden); }

// Inverse-CDF sampling with 16 random bits: table[i] = Phi^-1((i + 0.5) / 65536), so one 64-bit hash gives
// four standard normal values (discretised in probability steps of 2^-16; tails reach +-4.3 sd). Built once
// per process by bisection on std::erfc in double, using the symmetry Phi^-1(1 - p) = -Phi^-1(p).
const std::vector<float>& NormalQuantiles() {
  static const std::vector<float> table = [] {
    std::vector<float> t(65536);
    for (int i = 0; i < 32768; ++i) {
      const double p = (i + 0.5) / 65536.0;
      double lo = -10.0, hi = 0.0;  // Phi(z) = erfc(-z / sqrt(2)) / 2 is increasing
      for (int iter = 0; iter < 64; ++iter) {
        const double mid = 0.5 * (lo + hi);
        (0.5 * std::erfc(-mid / std::sqrt(2.0)) < p ? lo : hi) = mid;
      }
      t[i] = static_cast<float>(0.5 * (lo + hi));
      t[65535 - i] = -t[i];
    }
    return t;
  }();
  return table;
}

// dst[i] = offset + scale * z(e0 + i) for n consecutive elements of a stream, where element e takes the
// 16-bit lane e % 4 of hash e / 4: the value of an element does not depend on where a run starts.
void NormalRun(uint64_t stream, uint64_t e0, int64_t n, float scale, float offset, float* dst) {
  const float* table = NormalQuantiles().data();
  uint64_t e = e0;
  for (int64_t i = 0; i < n;) {
    uint64_t bits = Draw(stream, e >> 2) >> (16 * (e & 3));
    for (uint64_t lane = e & 3; lane < 4 && i < n; ++lane, ++i, ++e, bits >>= 16)
      dst[i] = offset + scale * table[bits & 0xffff];
  }
}

// Uniform in [0, 1) from the top 24 bits.
inline float Uniform(uint64_t bits) { return static_cast<float>(bits >> 40) * (1.0f / 16777216.0f); }

uint64_t Fnv1a(std::string_view s) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (char ch : s) h = (h ^ static_cast<uint8_t>(ch)) * 0x100000001b3ull;
  return h;
}

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// The MTP layer's embedding and head are copies of the main model's (DeepSeek-V3 report sec. 2.2: shared
// with the main model; the checkpoint stores them again), so they use the originals' stream.
std::string_view StreamName(const TensorSpec& spec) {
  if (EndsWith(spec.name, ".embed_tokens.weight")) return "model.embed_tokens.weight";
  if (EndsWith(spec.name, ".shared_head.head.weight")) return "lm_head.weight";
  return spec.name;
}

// Gain of a matrix drawn as gain * z / sqrt(fan_in).
float Gain(const TensorSpec& spec) {
  // Projections writing into the residual stream get 0.5 so each layer adds a moderate update, as in trained
  // models (tiny-dsv32-a README); this keeps a deep random network from amplifying its inputs.
  if (EndsWith(spec.name, "o_proj.weight") || EndsWith(spec.name, "down_proj.weight")) return 0.5f;
  if (EndsWith(spec.name, "lm_head.weight") || EndsWith(spec.name, "shared_head.head.weight"))
    return 1.5f;  // logit std about 1.5
  if (EndsWith(spec.name, "mlp.gate.weight")) return 2.0f;  // router logits std 2, as the fixture
  return 1.0f;
}

}  // namespace

int64_t GeneratorRows(const Shape& shape) { return shape.size() == 2 ? shape[0] : 1; }
int64_t GeneratorCols(const Shape& shape) { return shape.size() == 2 ? shape[1] : NumElements(shape); }

WeightRecipe RecipeFor(const TensorSpec& spec, const ModelConfig& config, uint64_t seed) {
  WeightRecipe r;
  r.stream = Mix64(seed ^ Mix64(Fnv1a(StreamName(spec))));
  r.block_rows = config.quantization_config.weight_block_size[0];
  r.block_cols = config.quantization_config.weight_block_size[1];
  const float fan_in = static_cast<float>(GeneratorCols(spec.shape));
  switch (spec.kind) {
    case TensorKind::kLinear:
      r.std = Gain(spec) / std::sqrt(fan_in);
      r.per_block_factor = true;  // also in BF16 mode, so both modes describe the same kind of model
      r.fp8_blocks = config.is_fp8();
      r.dtype = config.is_fp8() ? DType::kF8E4M3 : DType::kBF16;
      break;
    case TensorKind::kDense:
      // Embedding rows are N(0, 1) (torch's nn.Embedding init); the rest are matrices applied to O(1) inputs.
      r.std = EndsWith(spec.name, "embed_tokens.weight") ? 1.0f : Gain(spec) / std::sqrt(fan_in);
      break;
    case TensorKind::kNormWeight:
      // RMSNorm / LayerNorm weights 1 + 0.1 z; the indexer's LayerNorm bias 0.1 z.
      r.distribution = EndsWith(spec.name, ".bias") ? WeightRecipe::Distribution::kGaussian
                                                    : WeightRecipe::Distribution::kOnePlusGaussian;
      r.std = 0.1f;
      break;
    case TensorKind::kBias:  // e_score_correction_bias, F32 in the real checkpoint
      r.distribution = WeightRecipe::Distribution::kUniform;
      r.std = 0.1f;
      r.dtype = DType::kF32;
      break;
  }
  return r;
}

namespace {

// The float weights of one row: [cols], block factors [ceil(cols / block_cols)] applied per column block.
// The distribution switch and the block lookup sit outside the element loops: this loop produces every byte
// of a checkpoint.
void FillRow(const WeightRecipe& r, int64_t row, int64_t cols, const float* factors, float* dst) {
  const uint64_t row_start = static_cast<uint64_t>(row * cols);  // element index of (row, 0)
  switch (r.distribution) {
    case WeightRecipe::Distribution::kGaussian:
      for (int64_t c0 = 0, cb = 0; c0 < cols; c0 += r.block_cols, ++cb) {
        const int64_t c1 = std::min(cols, c0 + r.block_cols);
        NormalRun(r.stream, row_start + c0, c1 - c0, r.std * factors[cb], 0.0f, dst + c0);
      }
      break;
    case WeightRecipe::Distribution::kOnePlusGaussian:
      NormalRun(r.stream, row_start, cols, r.std, 1.0f, dst);
      break;
    case WeightRecipe::Distribution::kUniform:
      for (int64_t col = 0; col < cols; ++col)
        dst[col] = r.std * (2.0f * Uniform(Draw(r.stream, row_start + col)) - 1.0f);
      break;
  }
}

}  // namespace

void GenerateRows(const WeightRecipe& recipe, const Shape& shape, int64_t row_begin, int64_t row_end,
                  std::byte* out, float* scale_out, std::vector<float>* scratch) {
  const int64_t cols = GeneratorCols(shape);
  const int64_t col_blocks = (cols + recipe.block_cols - 1) / recipe.block_cols;
  const uint64_t factor_stream = Mix64(recipe.stream ^ 0x5eed'f4c7'0b10'c4ull);
  std::vector<float> factors(static_cast<size_t>(col_blocks), 1.0f);
  // Factors of row block rb: block (rb, cb) is scaled by 2^(2u - 1), log-uniform in [1/2, 2].
  auto load_factors = [&](int64_t rb) {
    if (!recipe.per_block_factor) return;
    for (int64_t cb = 0; cb < col_blocks; ++cb)
      factors[cb] = std::exp2(2.0f * Uniform(Draw(factor_stream, static_cast<uint64_t>(rb * col_blocks + cb))) - 1.0f);
  };
  std::vector<float>& rows_f32 = *scratch;  // [rows of one row block, cols]

  if (!recipe.fp8_blocks) {
    rows_f32.resize(static_cast<size_t>(cols));
    for (int64_t row = row_begin; row < row_end; ++row) {
      if (row == row_begin || row % recipe.block_rows == 0) load_factors(row / recipe.block_rows);
      FillRow(recipe, row, cols, factors.data(), rows_f32.data());
      if (recipe.dtype == DType::kF32) {
        std::memcpy(out + (row - row_begin) * cols * 4, rows_f32.data(), static_cast<size_t>(cols) * 4);
      } else {
        uint16_t* dst = reinterpret_cast<uint16_t*>(out) + (row - row_begin) * cols;
        for (int64_t col = 0; col < cols; ++col) dst[col] = FloatToBf16(rows_f32[col]);
      }
    }
    return;
  }

  // FP8, as DeepSeek's checkpoints are made: per 128x128 block scale = amax / 448 (stored as
  // weight_scale_inv, which multiplies on dequantisation) and e4m3 code = RNE(w / scale), saturating.
  SIEVE_CHECK(row_begin % recipe.block_rows == 0) << "FP8 rows must start on a block";
  for (int64_t r0 = row_begin; r0 < row_end; r0 += recipe.block_rows) {
    const int64_t rb = r0 / recipe.block_rows;
    const int64_t rows = std::min(recipe.block_rows, row_end - r0);  // the last row block may be partial
    load_factors(rb);
    rows_f32.resize(static_cast<size_t>(rows * cols));
    for (int64_t i = 0; i < rows; ++i) FillRow(recipe, r0 + i, cols, factors.data(), rows_f32.data() + i * cols);
    float* scales = scale_out + (rb - row_begin / recipe.block_rows) * col_blocks;
    for (int64_t cb = 0; cb < col_blocks; ++cb) {
      const int64_t c0 = cb * recipe.block_cols, c1 = std::min(cols, c0 + recipe.block_cols);
      float amax = 0.0f;
      for (int64_t i = 0; i < rows; ++i)
        for (int64_t col = c0; col < c1; ++col) amax = std::max(amax, std::fabs(rows_f32[i * cols + col]));
      const float scale = amax > 0.0f ? amax / kE4m3Max : 1.0f;
      scales[cb] = scale;
      for (int64_t i = 0; i < rows; ++i) {
        uint8_t* dst = reinterpret_cast<uint8_t*>(out) + (r0 - row_begin + i) * cols;
        for (int64_t col = c0; col < c1; ++col) dst[col] = FloatToE4m3(rows_f32[i * cols + col] / scale);
      }
    }
  }
}

}  // namespace sieve::model
