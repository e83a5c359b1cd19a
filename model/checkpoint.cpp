// Checkpoint opening and validation.
#include "model/checkpoint.h"

#include <fmt/format.h>
#include <sys/mman.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>

#include "core/available_memory.h"
#include "core/logging.h"
#include "kernels/thread_pool.h"
#include "model/tensor_names.h"

namespace sieve::model {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

bool IsOneOf(DType d, std::initializer_list<DType> allowed) {
  for (DType a : allowed)
    if (a == d) return true;
  return false;
}

std::string Mismatch(const std::string& file, const std::string& name, const std::string& what,
                     const std::string& got, const std::string& expected) {
  return file + ": " + name + ": " + what + " " + got + ", expected " + expected;
}

// Maps tensor name -> shard file name, from the index or from the single file.
StatusOr<std::vector<std::string>> ShardFiles(const std::string& dir, std::map<std::string, std::string>* weight_map) {
  const fs::path index = fs::path(dir) / "model.safetensors.index.json";
  const fs::path single = fs::path(dir) / "model.safetensors";
  std::vector<std::string> files;
  if (fs::exists(index)) {
    std::ifstream in(index);
    std::stringstream ss;
    ss << in.rdbuf();
    json j;
    try {
      j = json::parse(ss.str());
    } catch (const json::exception& e) {
      return Status::InvalidArgument(index.string() + ": not valid JSON: " + e.what());
    }
    if (!j.contains("weight_map") || !j["weight_map"].is_object())
      return Status::InvalidArgument(index.string() + ": missing \"weight_map\" object");
    std::set<std::string> seen;
    for (auto it = j["weight_map"].begin(); it != j["weight_map"].end(); ++it) {
      if (!it.value().is_string())
        return Status::InvalidArgument(index.string() + ": weight_map entry " + it.key() + " is not a file name");
      const std::string file = it.value().get<std::string>();
      if (file.find('/') != std::string::npos || file == ".." || file.empty())
        return Status::InvalidArgument(index.string() + ": weight_map entry " + it.key() + " names a file outside the folder: " + file);
      (*weight_map)[it.key()] = file;
      if (seen.insert(file).second) files.push_back(file);
    }
    if (files.empty()) return Status::InvalidArgument(index.string() + ": weight_map lists no tensors");
    return files;
  }
  if (fs::exists(single)) return std::vector<std::string>{"model.safetensors"};
  return Status::NotFound(dir + ": no model.safetensors.index.json or model.safetensors");
}

}  // namespace

Status ValidateTensor(const TensorSpec& spec, const ConstTensorView* view, const ConstTensorView* scale,
                      const ModelConfig& config, const std::string& file, const std::string& scale_file) {
  if (view == nullptr) return Status::NotFound(file + ": missing tensor " + spec.name);
  if (view->shape != spec.shape)
    return Status::InvalidArgument(
        Mismatch(file, spec.name, "shape", ShapeToString(view->shape), ShapeToString(spec.shape)));
  const std::string got_dtype(DTypeName(view->dtype));
  switch (spec.kind) {
    case TensorKind::kLinear:
      if (config.is_fp8()) {
        if (view->dtype != DType::kF8E4M3)
          return Status::InvalidArgument(Mismatch(file, spec.name, "dtype", got_dtype, "F8_E4M3"));
        const std::string sname = ScaleName(spec.name);
        if (scale == nullptr) return Status::NotFound(scale_file + ": missing tensor " + sname);
        const Shape want = ScaleShape(spec.shape, config);
        if (scale->dtype != DType::kF32)
          return Status::InvalidArgument(Mismatch(scale_file, sname, "dtype", std::string(DTypeName(scale->dtype)), "F32"));
        if (scale->shape != want)
          return Status::InvalidArgument(Mismatch(
              scale_file, sname, "shape", ShapeToString(scale->shape),
              ShapeToString(want) + " for weight " + ShapeToString(spec.shape) + " in " +
                  std::to_string(config.quantization_config.weight_block_size[0]) + "x" +
                  std::to_string(config.quantization_config.weight_block_size[1]) + " blocks"));
      } else if (!IsOneOf(view->dtype, {DType::kBF16, DType::kF16, DType::kF32})) {
        return Status::InvalidArgument(Mismatch(file, spec.name, "dtype", got_dtype, "BF16, F16 or F32 (no quantization_config)"));
      }
      break;
    case TensorKind::kDense:
    case TensorKind::kNormWeight:
    case TensorKind::kBias:
      if (!IsOneOf(view->dtype, {DType::kBF16, DType::kF16, DType::kF32}))
        return Status::InvalidArgument(Mismatch(file, spec.name, "dtype", got_dtype, "BF16, F16 or F32"));
      break;
  }
  return Status::Ok();
}

Status FitsInMemory(const std::string& dir, size_t bytes, int64_t available_bytes) {
  if (available_bytes <= 0 || bytes <= static_cast<size_t>(available_bytes)) return Status::Ok();
  constexpr double kGiB = double(int64_t{1} << 30);
  return Status::ResourceExhausted(fmt::format(
      "{}: --no-mmap needs {:.2f} GiB to hold the checkpoint's tensors and {:.2f} GiB are available (MemAvailable); "
      "leave out --no-mmap to map the files instead",
      dir, static_cast<double>(bytes) / kGiB, static_cast<double>(available_bytes) / kGiB));
}

StatusOr<std::unique_ptr<Checkpoint>> Checkpoint::Open(const std::string& dir, WeightLoad load, bool with_mtp) {
  if (!fs::is_directory(dir)) return Status::NotFound(dir + ": not a directory");
  std::unique_ptr<Checkpoint> ckpt(new Checkpoint());
  ckpt->dir_ = dir;
  ckpt->load_ = load;
  SIEVE_ASSIGN_OR_RETURN(ckpt->config_, LoadModelConfig((fs::path(dir) / "config.json").string()));
  std::map<std::string, std::string> weight_map;
  SIEVE_ASSIGN_OR_RETURN(std::vector<std::string> files, ShardFiles(dir, &weight_map));
  std::map<std::string, const SafetensorsFile*> by_file;
  for (const std::string& f : files) {
    const fs::path shard_path = fs::path(dir) / f;
    if (!fs::exists(shard_path)) {
      // Name a tensor the missing file was to provide, so the message says what is lost.
      size_t count = 0;
      std::string first;
      for (const auto& [name, file] : weight_map)
        if (file == f && count++ == 0) first = name;
      return Status::NotFound(shard_path.string() + ": shard file not found (model.safetensors.index.json maps " +
                              std::to_string(count) + " tensors to it, e.g. " + first + ")");
    }
    SIEVE_ASSIGN_OR_RETURN(auto shard, SafetensorsFile::Open(shard_path.string()));
    by_file[f] = shard.get();
    for (const auto& [name, view] : shard->tensors()) {
      if (ckpt->tensors_.count(name))
        return Status::InvalidArgument(shard->path() + ": tensor " + name + " appears in two shards");
      ckpt->tensors_[name] = &view;
    }
    ckpt->shards_.push_back(std::move(shard));
  }
  // The index must not promise tensors its shards lack.
  for (const auto& [name, file] : weight_map) {
    const ConstTensorView* v = by_file.at(file)->Find(name);
    if (v == nullptr)
      return Status::NotFound((fs::path(dir) / file).string() + ": missing tensor " + name +
                              " (listed in model.safetensors.index.json)");
  }
  // The file a tensor is in; for a tensor in no file, the index that should have listed it.
  const bool indexed = fs::exists(fs::path(dir) / "model.safetensors.index.json");
  auto where = [&](const std::string& name) {
    auto it = weight_map.find(name);
    if (it != weight_map.end()) return (fs::path(dir) / it->second).string();
    return (fs::path(dir) / (indexed ? "model.safetensors.index.json" : files.front())).string();
  };
  for (const TensorSpec& spec : ExpectedTensors(ckpt->config_)) {
    const ConstTensorView* view = ckpt->Find(spec.name);
    const ConstTensorView* scale = ckpt->Find(ScaleName(spec.name));
    SIEVE_RETURN_IF_ERROR(
        ValidateTensor(spec, view, scale, ckpt->config_, where(spec.name), where(ScaleName(spec.name))));
  }
  if (load == WeightLoad::kInMemory) SIEVE_RETURN_IF_ERROR(ckpt->CopyIntoMemory(with_mtp));
  for (const auto& [name, view] : ckpt->tensors_)
    if (view->dtype == DType::kF8E4M3 && view->shape.size() == 2)
      ckpt->nan_memos_[view] = std::make_unique<kernels::Fp8NanMemo>(view->as<uint8_t>(), view->shape[0], view->shape[1]);
  return ckpt;
}

Status Checkpoint::CopyIntoMemory(bool with_mtp) {
  // The tensor table's order (layer by layer; in a layer attention, then the router and each expert's
  // gate, up and down, as a step reads them), an FP8 weight's scales right after it, then any tensor the
  // table does not list (by name). Without MTP, the MTP layers' tensors (a whole MoE layer: 11 GB of the
  // real model's 690) stay mapped and unread.
  std::vector<std::string> mtp_prefixes;
  if (!with_mtp)
    for (int64_t l = config_.num_hidden_layers; l < config_.num_checkpoint_layers(); ++l)
      mtp_prefixes.push_back(LayerPrefix(l));
  std::vector<std::pair<std::string, const ConstTensorView*>> order;
  std::set<std::string> placed;
  bool left_mapped = false;
  const auto place = [&](const std::string& name) {
    const ConstTensorView* view = Find(name);
    if (view == nullptr || !placed.insert(name).second) return;
    for (const std::string& prefix : mtp_prefixes) {
      if (name.rfind(prefix, 0) == 0) {
        left_mapped = true;
        return;
      }
    }
    order.push_back({name, view});
  };
  for (const TensorSpec& spec : ExpectedTensors(config_)) {
    place(spec.name);
    place(ScaleName(spec.name));
  }
  for (const auto& [name, view] : tensors_) place(name);
  // Each copy starts on a cache line, whatever its offset in the file (8-byte multiples in Hugging Face
  // shards), so no weight row's vector loads split two lines.
  constexpr size_t kAlignment = 64;
  const auto padded = [](size_t bytes) { return (bytes + kAlignment - 1) / kAlignment * kAlignment; };
  std::vector<size_t> at(order.size() + 1, 0);  // where each copy starts; at.back() = the whole copy
  for (size_t i = 0; i < order.size(); ++i) at[i + 1] = at[i] + padded(order[i].second->nbytes);
  const size_t total = at.back();
  SIEVE_RETURN_IF_ERROR(FitsInMemory(dir_, total, AvailableMemoryBytes()));
  try {
    resident_ = ZeroPages(total);
  } catch (const std::bad_alloc&) {
    return Status::ResourceExhausted(
        fmt::format("{}: --no-mmap could not reserve {} bytes for the checkpoint's tensors", dir_, total));
  }
  // A hint (ignored where transparent huge pages are off): 2 MiB pages fault in 512 times fewer and
  // cover a step's weight stream with fewer TLB entries.
  madvise(resident_.data(), total, MADV_HUGEPAGE);
  // One thread per core, each over its own 2 MiB-aligned range of the copy: the kernel zeroes every fresh
  // page on the thread that first writes it, which took most of a one-thread copy's time (~60% of its
  // samples for `small`), so the threads share the zeroing as well as the memcpy.
  const auto copy_range = [&](size_t begin, size_t end) {
    for (size_t i = 0; i < order.size(); ++i) {
      const size_t lo = std::max(begin, at[i]), hi = std::min(end, at[i] + order[i].second->nbytes);
      if (lo < hi) std::memcpy(resident_.data() + lo, order[i].second->data + (lo - at[i]), hi - lo);
    }
  };
  constexpr size_t kRangeAlignment = size_t{2} << 20;
  const size_t threads = static_cast<size_t>(std::max(1, kernels::ThreadPool::DefaultThreadCount()));
  const size_t share = (total / threads + kRangeAlignment - 1) / kRangeAlignment * kRangeAlignment;
  std::vector<std::thread> copiers;
  for (size_t t = 1; t < threads; ++t)
    copiers.emplace_back(copy_range, std::min(total, t * share), std::min(total, (t + 1) * share));
  copy_range(0, std::min(total, share));
  for (std::thread& copier : copiers) copier.join();
  for (size_t i = 0; i < order.size(); ++i) {
    ConstTensorView copy = *order[i].second;
    copy.data = reinterpret_cast<const std::byte*>(resident_.data() + at[i]);
    resident_views_.push_back(std::move(copy));
    tensors_[order[i].first] = &resident_views_.back();
  }
  resident_bytes_ = total;
  if (!left_mapped) shards_.clear();  // closes the mappings: nothing reads them from here on
  return Status::Ok();
}

const ConstTensorView* Checkpoint::Find(const std::string& name) const {
  auto it = tensors_.find(name);
  return it == tensors_.end() ? nullptr : it->second;
}

const ConstTensorView& Checkpoint::Get(const std::string& name) const {
  const ConstTensorView* v = Find(name);
  SIEVE_CHECK(v != nullptr) << "tensor " << name << " was not validated";
  return *v;
}

LinearWeight Checkpoint::Linear(const std::string& prefix) const {
  LinearWeight w;
  const ConstTensorView& weight = Get(prefix + ".weight");
  w.weight = weight;
  if (auto memo = nan_memos_.find(&weight); memo != nan_memos_.end()) w.nan_memo = memo->second.get();
  if (config_.is_fp8()) {
    w.scale_inv = &Get(prefix + ".weight_scale_inv");
    w.block_rows = config_.quantization_config.weight_block_size[0];
    w.block_cols = config_.quantization_config.weight_block_size[1];
  }
  return w;
}

size_t Checkpoint::TotalBytes() const {
  size_t total = 0;
  for (const auto& [name, view] : tensors_) total += view->nbytes;
  return total;
}

}  // namespace sieve::model
