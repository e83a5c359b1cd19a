// PagedKvCache: the bytes of the KV cache, in fixed-size blocks of `block_size` tokens (vLLM's paged
// attention layout). The engine owns which block belongs to which sequence (engine/block_pool); the
// model reads and writes entries through a sequence's block table: token t of a sequence lives in block
// block_table[t / block_size] at slot t % block_size.
//
// Per token and per layer (decoder layers, then the MTP layers) it holds what DeepSeek-V3.2's absorbed
// MLA and lightning indexer need, never expanded K/V:
//   latent   [kv_lora_rank]      kv_a_layernorm(compressed kv)                  (512 in the real model)
//   k_rope   [qk_rope_head_dim]  RoPE'd shared key                               (64)
//   index_k  [index_head_dim]    indexer key after LayerNorm, RoPE and Hadamard  (128; only with DSA)
// stored as `dtype` (fp32 by default; bf16; fp8 e4m3 with one fp32 scale per token and vector).
//
// Byte layout of one block of one layer: the block_size MLA entries (latent, then k_rope, as `dtype`
// elements back to back; with fp8 their two fp32 scales, amax / 448 so codes use the full e4m3 range, 1
// for an all-zero vector, follow in the same order), then the block_size index keys (index_k as `dtype`;
// with fp8 its fp32 scale after it, the reference's power-of-two UE8M0 scale of core/act_quant.h, as its
// indexer caches k_fp8 / k_scale and kernels/index_score.h scores them). Blocks are laid out [num_blocks, num_layers, that], so one block
// holds every layer of its tokens, and a layer's index keys are rows back to back: the indexer reads
// every one of them each decode step; scoring 8 layers x 32K fp32 keys takes 17 ms from these 64-row runs,
// 20-26 ms from keys interleaved with the latents (bench/index_score_bench, 2 threads, 2026-12-05).
#pragma once

#include <cstdint>
#include <string>

#include "core/status.h"
#include "core/zero_pages.h"
#include "kernels/index_score.h"
#include "model/config.h"

namespace sieve::model {

enum class KvCacheDtype { kF32, kBF16, kFP8 };
// "auto" (= f32 for --numerics fp32), "float32", "bf16"/"bfloat16", "fp8"/"fp8_e4m3".
StatusOr<KvCacheDtype> ParseKvCacheDtype(const std::string& name);

class PagedKvCache {
 public:
  // `num_layers` = decoder layers + MTP layers that will be run.
  PagedKvCache(const ModelConfig& config, int64_t num_layers, int64_t num_blocks, int64_t block_size,
               KvCacheDtype dtype);

  // Bytes one token occupies over all `num_layers` layers (for sizing from a memory budget).
  static int64_t BytesPerToken(const ModelConfig& config, int64_t num_layers, KvCacheDtype dtype);

  int64_t num_blocks() const { return num_blocks_; }
  int64_t block_size() const { return block_size_; }
  int64_t num_layers() const { return num_layers_; }
  KvCacheDtype dtype() const { return dtype_; }

  // Writes / reads one token's entries. `block` and `slot` come from the sequence's block table.
  void Write(int64_t layer, int64_t block, int64_t slot, const float* latent, const float* k_rope,
             const float* index_k);
  // The two halves of Write, for MLA and the indexer which compute them at different times.
  void WriteLatent(int64_t layer, int64_t block, int64_t slot, const float* latent, const float* k_rope);
  void WriteIndexKey(int64_t layer, int64_t block, int64_t slot, const float* index_k);
  void ReadLatent(int64_t layer, int64_t block, int64_t slot, float* latent, float* k_rope) const;
  // Asks the CPU to start loading an MLA entry's bytes (a later ReadLatent of a scattered DSA selection
  // then finds them in cache); no effect on any value.
  void PrefetchLatent(int64_t layer, int64_t block, int64_t slot) const;
  void ReadIndexKey(int64_t layer, int64_t block, int64_t slot, float* index_k) const;
  // The index keys of a block read in place (the indexer scores them without copying): slot s's key starts
  // at IndexKeys(layer, block) + s * IndexKeyFormat().row_bytes, in the layout above.
  const uint8_t* IndexKeys(int64_t layer, int64_t block) const;
  kernels::IndexKeyFormat IndexKeyFormat() const;
  // Copies every layer's entries of a block (copy-on-write of a shared, partially filled block).
  void CopyBlock(int64_t src_block, int64_t dst_block);

 private:
  int64_t kv_lora_rank_, qk_rope_head_dim_, index_head_dim_;
  int64_t num_layers_, num_blocks_, block_size_;
  KvCacheDtype dtype_;
  uint8_t* Entry(int64_t layer, int64_t block, int64_t slot);  // MLA entry
  const uint8_t* Entry(int64_t layer, int64_t block, int64_t slot) const;
  uint8_t* IndexEntry(int64_t layer, int64_t block, int64_t slot);
  const uint8_t* IndexEntry(int64_t layer, int64_t block, int64_t slot) const;
  void Store(uint8_t* dst, int64_t n, const float* values, uint8_t* scale);
  void Load(const uint8_t* src, int64_t n, const uint8_t* scale, float* values) const;

  int64_t entry_bytes_;  // one token's MLA entry in one layer
  int64_t index_bytes_;  // one token's index key in one layer (0 without DSA)
  ZeroPages storage_;  // the blocks (layout above), committed as blocks fill
};

}  // namespace sieve::model
