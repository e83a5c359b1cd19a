// Lightning-indexer scores of one query against many keys (DeepSeek-V3.2-Exp report eq. (1)):
//   I[s] = sum_h w[h] * ReLU(q[h] . k[s])     (ReLU before the weighting; w may be negative)
// The keys are read where they are stored (the paged KV cache's token entries), in fp32, bf16 or e4m3.
// e4m3 keys are scored with the reference's FP8 numerics (DeepSeek-V3.2-Exp model.py Indexer.forward and
// kernel.py fp8_index): q is quantised per head like the keys (core/act_quant.h, UE8M0 scales), the
// dots run over the codes' values, and
//   I[s] = k_scale[s] * sum_h (w[h] * q_scale[h]) * ReLU(q_code[h] . k_code[s])
// in the order kernels/cpu/index_fp8_order.h fixes (same bits on every target with FMA and with AVX512-BF16).
#pragma once

#include <cstdint>

namespace sieve::kernels {

enum class IndexKeyType { kF32, kBF16, kFP8 };

// How one key row is stored: `head_dim` elements of `type`, rows `row_bytes` apart; an fp8 row is e4m3
// codes whose fp32 scale sits `scale_offset` bytes after the row's first code (key = e4m3(code) * scale).
struct IndexKeyFormat {
  IndexKeyType type = IndexKeyType::kF32;
  int64_t row_bytes = 0;
  int64_t scale_offset = 0;
};

// Keys in blocks of `block_rows` rows (a paged cache's blocks, in a sequence's block-table order): key p is
// row p % block_rows of blocks[p / block_rows].
struct IndexKeyRows {
  const uint8_t* const* blocks = nullptr;  // [ceil(n_keys / block_rows)] row 0 of each block
  int64_t block_rows = 0;
  IndexKeyFormat format;

  const uint8_t* Row(int64_t p) const { return blocks[p / block_rows] + (p % block_rows) * format.row_bytes; }
};

// q [n_heads, head_dim], w [n_heads]; scores [key_end - key_begin] for keys [key_begin, key_end).
// Each score is computed by the same operations in the same order whatever the key range, the block
// layout and which block of keys it falls in, so splitting the keys over threads does not change results;
// bf16 keys are decoded exactly as the cache's ReadIndexKey decodes them (same bits as scoring decoded
// fp32 copies of the keys). With fp8 keys a key or query holding the NaN code scores NaN.
void IndexScores(const float* q, const float* w, int64_t n_heads, int64_t head_dim, const IndexKeyRows& keys,
                 int64_t key_begin, int64_t key_end, float* scores);

// Which kernel scores fp8 keys; both give the same bits (kernels/cpu/index_fp8_order.h). kAuto: the
// AVX512-BF16 dot kernel where the CPU has the instruction and it outruns fp32 FMAs there
// (kernels/machine_limits.h, Bf16DotOutrunsFma), else the FMA kernel. Tests force each; kBf16Dot on a CPU
// without the instruction runs the FMA kernel. Process-wide.
enum class Fp8IndexKernel { kAuto, kBf16Dot, kFma };
void SetFp8IndexKernel(Fp8IndexKernel kernel);

}  // namespace sieve::kernels
