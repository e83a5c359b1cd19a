// Checkpoint: a Hugging Face DeepSeek checkpoint folder (config.json + model.safetensors.index.json and
// shards, or one model.safetensors), memory-mapped and validated against the config's tensor table
// before any compute. Tensors are views into the mappings: nothing is converted or copied up front,
// unless WeightLoad::kInMemory asks for a copy (`--no-mmap`).
#pragma once

#include <deque>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "core/tensor.h"
#include "core/zero_pages.h"
#include "kernels/fp8_nan_memo.h"
#include "model/config.h"
#include "model/safetensors.h"
#include "model/tensor_names.h"

namespace sieve::model {

// A projection weight y = W x with W [rows=out, cols=in]. In an FP8 checkpoint `weight` is F8_E4M3 and
// `scale_inv` F32 [ceil(rows/block_rows), ceil(cols/block_cols)]: despite its name it multiplies,
// W[o, i] = e4m3(weight[o, i]) * scale_inv[o / block_rows, i / block_cols]. Otherwise `scale_inv` is
// null and `weight` is BF16 / F16 / F32.
struct LinearWeight {
  ConstTensorView weight;
  const ConstTensorView* scale_inv = nullptr;
  int64_t block_rows = 128;
  int64_t block_cols = 128;
  kernels::Fp8NanMemo* nan_memo = nullptr;  // FP8 only: the checkpoint's memo of this tensor's NaN-code rows

  int64_t rows() const { return weight.shape[0]; }
  int64_t cols() const { return weight.shape[1]; }
};

// Where the tensors' bytes live once the checkpoint is open.
enum class WeightLoad {
  // Views into the shards' memory mappings (the default): open at once, evictable under memory pressure;
  // Model::Load then maps the pages a rank reads into the process (model/weight_prefault.h), which reads
  // them from disk where they are not cached yet.
  kMapped,
  // llama.cpp's `--no-mmap`: every tensor copied into anonymous memory (2 MiB pages where the kernel gives
  // them), each on a 64-byte boundary, in the order a forward step reads them (ExpectedTensors: layer by
  // layer, an FP8 weight's scales right after it); the mappings are then closed. Costs the copy at
  // start-up (`small` without MTP, 0.96 GB: ~1 s against 0.03-0.05 s mapped) and the checkpoint's size in
  // memory, which no page-cache pressure can evict. Batch-1 decode on `small` ran ~3% faster (median of
  // 10 in-process A/B runs of bench/weight_load_bench: 0.970), batch 16 the same (0.99); aligning the
  // mapped shards alone (their headers padded to 64 bytes) changed nothing (docs/performance.md, round 17).
  // Refused, with the sizes, when MemAvailable cannot hold the copy. The whole checkpoint, not a rank's
  // share: the CLI refuses it under mpirun (cli/no_mmap_flag.h).
  kInMemory,
};

class Checkpoint {
 public:
  // Reads config.json, maps every shard, validates every tensor (then copies them for kInMemory). Errors
  // name the file and tensor. `with_mtp` false: the MTP layers will not be read (no speculative decoding),
  // so kInMemory leaves them mapped instead of copying them.
  static StatusOr<std::unique_ptr<Checkpoint>> Open(const std::string& dir, WeightLoad load = WeightLoad::kMapped,
                                                    bool with_mtp = true);

  const std::string& dir() const { return dir_; }
  const ModelConfig& config() const { return config_; }
  // Validated tensors only; a name not in the tensor table is a programming error (CHECK).
  const ConstTensorView& Get(const std::string& name) const;
  const ConstTensorView* Find(const std::string& name) const;
  // `prefix` without ".weight": "model.layers.0.self_attn.q_a_proj".
  LinearWeight Linear(const std::string& prefix) const;
  // Bytes of all mapped tensor data.
  size_t TotalBytes() const;
  size_t NumTensors() const { return tensors_.size(); }
  WeightLoad load() const { return load_; }
  // kInMemory: bytes of the copy (tensors padded to 64 bytes); 0 when mapped.
  size_t ResidentBytes() const { return resident_bytes_; }

 private:
  Checkpoint() = default;
  // WeightLoad::kInMemory: copies every tensor into resident_ and points tensors_ at the copies.
  Status CopyIntoMemory(bool with_mtp);

  std::string dir_;
  ModelConfig config_;
  std::vector<std::unique_ptr<SafetensorsFile>> shards_;
  std::map<std::string, const ConstTensorView*> tensors_;
  WeightLoad load_ = WeightLoad::kMapped;
  size_t resident_bytes_ = 0;
  ZeroPages resident_;                          // kInMemory: the copies' bytes
  std::deque<ConstTensorView> resident_views_;  // kInMemory: views of them (stable addresses for tensors_)
  // One per 2-D FP8 tensor, for every view of it the model makes (kernels/fp8_nan_memo.h).
  std::map<const ConstTensorView*, std::unique_ptr<kernels::Fp8NanMemo>> nan_memos_;
};

// WeightLoad::kInMemory's check before copying `bytes`: ResourceExhausted, naming both sizes, when they
// exceed `available_bytes` (MemAvailable; 0 = unknown, which passes).
Status FitsInMemory(const std::string& dir, size_t bytes, int64_t available_bytes);

// Validates one tensor (and, for an FP8 linear, its weight_scale_inv) against its spec; returns a message
// naming the file (`file` for the tensor, `scale_file` for the scale), tensor, expected and got.
Status ValidateTensor(const TensorSpec& spec, const ConstTensorView* view, const ConstTensorView* scale,
                      const ModelConfig& config, const std::string& file, const std::string& scale_file);

}  // namespace sieve::model
