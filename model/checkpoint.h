// Checkpoint: a Hugging Face DeepSeek checkpoint folder (config.json + model.safetensors.index.json and
// shards, or one model.safetensors), memory-mapped and validated against the config's tensor table
// before any compute. Tensors are views into the mappings: nothing is converted or copied up front.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "core/tensor.h"
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

class Checkpoint {
 public:
  // Reads config.json, maps every shard, validates every tensor. Errors name the file and tensor.
  static StatusOr<std::unique_ptr<Checkpoint>> Open(const std::string& dir);

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

 private:
  Checkpoint() = default;
  std::string dir_;
  ModelConfig config_;
  std::vector<std::unique_ptr<SafetensorsFile>> shards_;
  std::map<std::string, const ConstTensorView*> tensors_;
  // One per 2-D FP8 tensor, for every view of it the model makes (kernels/fp8_nan_memo.h).
  std::map<const ConstTensorView*, std::unique_ptr<kernels::Fp8NanMemo>> nan_memos_;
};

// Validates one tensor (and, for an FP8 linear, its weight_scale_inv) against its spec; returns a message
// naming the file (`file` for the tensor, `scale_file` for the scale), tensor, expected and got.
Status ValidateTensor(const TensorSpec& spec, const ConstTensorView* view, const ConstTensorView* scale,
                      const ModelConfig& config, const std::string& file, const std::string& scale_file);

}  // namespace sieve::model
