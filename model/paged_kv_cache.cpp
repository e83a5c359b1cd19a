// PagedKvCache storage and the per-token encodings (fp32, bf16, fp8 e4m3 + per-vector scale); the byte
// layout is documented in paged_kv_cache.h.
#include "model/paged_kv_cache.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/act_quant.h"
#include "core/dtype.h"
#include "core/logging.h"
#include "kernels/e4m3_decode.h"

namespace sieve::model {

namespace {

int64_t ElementBytes(KvCacheDtype dtype) {
  switch (dtype) {
    case KvCacheDtype::kF32: return 4;
    case KvCacheDtype::kBF16: return 2;
    case KvCacheDtype::kFP8: return 1;
  }
  return 4;
}

// latent + k_rope, then their two fp8 scales.
int64_t EntryBytes(const ModelConfig& c, KvCacheDtype dtype) {
  return (c.kv_lora_rank + c.qk_rope_head_dim) * ElementBytes(dtype) + (dtype == KvCacheDtype::kFP8 ? 2 * 4 : 0);
}

// index_k, then its fp8 scale.
int64_t IndexBytes(const ModelConfig& c, KvCacheDtype dtype) {
  if (!c.has_indexer()) return 0;
  return c.index_head_dim * ElementBytes(dtype) + (dtype == KvCacheDtype::kFP8 ? 4 : 0);
}

constexpr float kE4m3Max = 448.0f;

}  // namespace

StatusOr<KvCacheDtype> ParseKvCacheDtype(const std::string& name) {
  if (name == "auto" || name == "float32" || name == "fp32") return KvCacheDtype::kF32;
  if (name == "bf16" || name == "bfloat16") return KvCacheDtype::kBF16;
  if (name == "fp8" || name == "fp8_e4m3") return KvCacheDtype::kFP8;
  return Status::InvalidArgument("unknown kv cache dtype '" + name + "', expected auto, float32, bf16 or fp8");
}

PagedKvCache::PagedKvCache(const ModelConfig& config, int64_t num_layers, int64_t num_blocks, int64_t block_size,
                           KvCacheDtype dtype)
    : kv_lora_rank_(config.kv_lora_rank),
      qk_rope_head_dim_(config.qk_rope_head_dim),
      index_head_dim_(config.has_indexer() ? config.index_head_dim : 0),
      num_layers_(num_layers),
      num_blocks_(num_blocks),
      block_size_(block_size),
      dtype_(dtype),
      entry_bytes_(EntryBytes(config, dtype)),
      index_bytes_(IndexBytes(config, dtype)),
      storage_(static_cast<size_t>(num_blocks * num_layers * block_size * (entry_bytes_ + index_bytes_))) {}

int64_t PagedKvCache::BytesPerToken(const ModelConfig& config, int64_t num_layers, KvCacheDtype dtype) {
  return num_layers * (EntryBytes(config, dtype) + IndexBytes(config, dtype));
}

uint8_t* PagedKvCache::Entry(int64_t layer, int64_t block, int64_t slot) {
  SIEVE_DCHECK(layer < num_layers_ && block < num_blocks_ && slot < block_size_);
  return storage_.data() + (block * num_layers_ + layer) * block_size_ * (entry_bytes_ + index_bytes_) +
         slot * entry_bytes_;
}

const uint8_t* PagedKvCache::Entry(int64_t layer, int64_t block, int64_t slot) const {
  return const_cast<PagedKvCache*>(this)->Entry(layer, block, slot);
}

uint8_t* PagedKvCache::IndexEntry(int64_t layer, int64_t block, int64_t slot) {
  return Entry(layer, block, 0) + block_size_ * entry_bytes_ + slot * index_bytes_;
}

const uint8_t* PagedKvCache::IndexEntry(int64_t layer, int64_t block, int64_t slot) const {
  return const_cast<PagedKvCache*>(this)->IndexEntry(layer, block, slot);
}

// n values as `dtype` at dst; with fp8 their scale at `scale`.
void PagedKvCache::Store(uint8_t* dst, int64_t n, const float* values, uint8_t* scale) {
  switch (dtype_) {
    case KvCacheDtype::kF32: std::memcpy(dst, values, n * 4); break;
    case KvCacheDtype::kBF16:
      for (int64_t i = 0; i < n; ++i) {
        const uint16_t b = FloatToBf16(values[i]);
        std::memcpy(dst + 2 * i, &b, 2);
      }
      break;
    case KvCacheDtype::kFP8: {
      float amax = 0.0f;
      for (int64_t i = 0; i < n; ++i) amax = std::max(amax, std::abs(values[i]));
      const float s = amax > 0.0f ? amax / kE4m3Max : 1.0f;
      for (int64_t i = 0; i < n; ++i) dst[i] = FloatToE4m3(values[i] / s);
      std::memcpy(scale, &s, 4);
      break;
    }
  }
}

void PagedKvCache::Load(const uint8_t* src, int64_t n, const uint8_t* scale, float* values) const {
  switch (dtype_) {
    case KvCacheDtype::kF32: std::memcpy(values, src, n * 4); break;
    case KvCacheDtype::kBF16:
      for (int64_t i = 0; i < n; ++i) {
        uint16_t b;
        std::memcpy(&b, src + 2 * i, 2);
        values[i] = Bf16ToFloat(b);
      }
      break;
    case KvCacheDtype::kFP8: {
      float s;
      std::memcpy(&s, scale, 4);
      kernels::DecodeE4m3(src, n, s, values);
      break;
    }
  }
}

// With fp8 an MLA entry's scales sit after its latent and k_rope codes, the index key's after its codes.
void PagedKvCache::WriteLatent(int64_t layer, int64_t block, int64_t slot, const float* latent, const float* k_rope) {
  uint8_t* e = Entry(layer, block, slot);
  uint8_t* scales = e + kv_lora_rank_ + qk_rope_head_dim_;  // used with fp8 only: 1 byte per element
  Store(e, kv_lora_rank_, latent, scales);
  Store(e + kv_lora_rank_ * ElementBytes(dtype_), qk_rope_head_dim_, k_rope, scales + 4);
}

void PagedKvCache::WriteIndexKey(int64_t layer, int64_t block, int64_t slot, const float* index_k) {
  uint8_t* e = IndexEntry(layer, block, slot);
  if (dtype_ == KvCacheDtype::kFP8) {  // act_quant(k) as Indexer.forward caches it
    const float scale = ActQuantE4m3(index_k, index_head_dim_, e);
    std::memcpy(e + index_head_dim_, &scale, 4);
    return;
  }
  Store(e, index_head_dim_, index_k, e + index_head_dim_);
}

void PagedKvCache::Write(int64_t layer, int64_t block, int64_t slot, const float* latent, const float* k_rope,
                         const float* index_k) {
  WriteLatent(layer, block, slot, latent, k_rope);
  if (index_head_dim_ > 0) WriteIndexKey(layer, block, slot, index_k);
}

void PagedKvCache::ReadLatent(int64_t layer, int64_t block, int64_t slot, float* latent, float* k_rope) const {
  const uint8_t* e = Entry(layer, block, slot);
  const uint8_t* scales = e + kv_lora_rank_ + qk_rope_head_dim_;
  Load(e, kv_lora_rank_, scales, latent);
  Load(e + kv_lora_rank_ * ElementBytes(dtype_), qk_rope_head_dim_, scales + 4, k_rope);
}

void PagedKvCache::PrefetchLatent(int64_t layer, int64_t block, int64_t slot) const {
  const uint8_t* e = Entry(layer, block, slot);
  for (int64_t line = 0; line < entry_bytes_; line += 64) __builtin_prefetch(e + line);
}

void PagedKvCache::ReadIndexKey(int64_t layer, int64_t block, int64_t slot, float* index_k) const {
  const uint8_t* e = IndexEntry(layer, block, slot);
  Load(e, index_head_dim_, e + index_head_dim_, index_k);
}

const uint8_t* PagedKvCache::IndexKeys(int64_t layer, int64_t block) const { return IndexEntry(layer, block, 0); }

kernels::IndexKeyFormat PagedKvCache::IndexKeyFormat() const {
  switch (dtype_) {
    case KvCacheDtype::kF32: return {kernels::IndexKeyType::kF32, index_bytes_, 0};
    case KvCacheDtype::kBF16: return {kernels::IndexKeyType::kBF16, index_bytes_, 0};
    case KvCacheDtype::kFP8: break;
  }
  return {kernels::IndexKeyType::kFP8, index_bytes_, index_head_dim_};
}

void PagedKvCache::CopyBlock(int64_t src_block, int64_t dst_block) {
  const int64_t block_bytes = num_layers_ * block_size_ * (entry_bytes_ + index_bytes_);
  std::memmove(storage_.data() + dst_block * block_bytes, storage_.data() + src_block * block_bytes, block_bytes);
}

}  // namespace sieve::model
