// Random checkpoint writing: shard planning, parallel chunk generation, streaming to the shard files.
#include "model/checkpoint_writer.h"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <thread>
#include <vector>

#include "core/logging.h"
#include "model/random_weights.h"
#include "model/safetensors.h"
#include "model/tensor_names.h"

namespace sieve::model {

namespace {

namespace fs = std::filesystem;

constexpr uint64_t kJobBytes = 4ull << 20;     // one generation job: whole row blocks, about this size
constexpr uint64_t kWindowBytes = 64ull << 20;  // generated, not yet written; two are in memory at once
constexpr const char* kTokenizerFiles[] = {"tokenizer.json", "tokenizer_config.json"};

// One tensor as stored in a shard: a weight (or norm, embedding, ...) or the scale of an FP8 weight.
struct StoredTensor {
  SafetensorsEntry entry;
  size_t spec = 0;  // index into the tensor table
  bool is_scale = false;
};

struct ShardPlan {
  std::string file;
  std::vector<StoredTensor> tensors;  // in file order: sorted by name, as Hugging Face writers do
  uint64_t bytes = 0;
};

// A piece of a shard's data section, in file order: generated rows of a tensor, or a finished scale tensor.
struct Piece {
  size_t shard = 0;
  size_t spec = 0;
  bool is_scale = false;
  int64_t row_begin = 0, row_end = 0;
  uint64_t nbytes = 0;
};

uint64_t EntryBytes(const SafetensorsEntry& e) { return static_cast<uint64_t>(NumElements(e.shape)) * DTypeSize(e.dtype); }

std::string ShardFileName(size_t k, size_t n) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "model-%05zu-of-%05zu.safetensors", k, n);
  return buf;
}

// Greedy packing in table order (layer by layer, as the real checkpoint), a weight and its scale always
// together; the MTP layers start a shard of their own so a loader that skips MTP can skip whole files.
std::vector<ShardPlan> PlanShards(const ModelConfig& config, const std::vector<TensorSpec>& specs,
                                  const std::vector<WeightRecipe>& recipes, uint64_t shard_bytes) {
  std::vector<ShardPlan> shards(1);
  const std::string mtp_prefix = LayerPrefix(config.num_hidden_layers);
  bool in_mtp = false;
  for (size_t i = 0; i < specs.size(); ++i) {
    std::vector<StoredTensor> group = {{{specs[i].name, recipes[i].dtype, specs[i].shape}, i, false}};
    if (recipes[i].fp8_blocks)
      group.push_back({{ScaleName(specs[i].name), DType::kF32, ScaleShape(specs[i].shape, config)}, i, true});
    uint64_t group_bytes = 0;
    for (const StoredTensor& t : group) group_bytes += EntryBytes(t.entry);
    const bool mtp_starts = !in_mtp && specs[i].name.rfind(mtp_prefix, 0) == 0;
    in_mtp = in_mtp || mtp_starts;
    if (!shards.back().tensors.empty() && (shards.back().bytes + group_bytes > shard_bytes || mtp_starts))
      shards.emplace_back();
    for (StoredTensor& t : group) shards.back().tensors.push_back(std::move(t));
    shards.back().bytes += group_bytes;
  }
  for (size_t k = 0; k < shards.size(); ++k) {
    ShardPlan& s = shards[k];
    s.file = ShardFileName(k + 1, shards.size());
    std::sort(s.tensors.begin(), s.tensors.end(),
              [](const StoredTensor& a, const StoredTensor& b) { return a.entry.name < b.entry.name; });
    // "X.weight" sorts directly before "X.weight_scale_inv", so a scale is written right after its
    // weight's last rows, which the streaming below relies on.
    for (size_t j = 0; j < s.tensors.size(); ++j) {
      if (s.tensors[j].is_scale) {
        SIEVE_CHECK(j > 0 && s.tensors[j - 1].spec == s.tensors[j].spec && !s.tensors[j - 1].is_scale)
            << s.tensors[j].entry.name << " does not follow its weight";
      }
    }
  }
  return shards;
}

std::vector<Piece> PlanPieces(const std::vector<ShardPlan>& shards, const std::vector<WeightRecipe>& recipes) {
  std::vector<Piece> pieces;
  for (size_t k = 0; k < shards.size(); ++k) {
    for (const StoredTensor& t : shards[k].tensors) {
      if (t.is_scale) {
        pieces.push_back({k, t.spec, true, 0, 0, EntryBytes(t.entry)});
        continue;
      }
      const WeightRecipe& r = recipes[t.spec];
      const int64_t rows = GeneratorRows(t.entry.shape);
      const uint64_t row_bytes = static_cast<uint64_t>(GeneratorCols(t.entry.shape)) * DTypeSize(t.entry.dtype);
      const uint64_t block_bytes = std::max<uint64_t>(1, row_bytes * static_cast<uint64_t>(r.block_rows));
      const int64_t rows_per_job = r.block_rows * static_cast<int64_t>(std::max<uint64_t>(1, kJobBytes / block_bytes));
      for (int64_t r0 = 0; r0 < rows; r0 += rows_per_job) {
        const int64_t r1 = std::min(rows, r0 + rows_per_job);
        pieces.push_back({k, t.spec, false, r0, r1, static_cast<uint64_t>(r1 - r0) * row_bytes});
      }
    }
  }
  return pieces;
}

// Consecutive pieces whose generated data fits kWindowBytes (at least one piece each); `offsets` place the
// generated pieces one after the other in an arena ([generated.size() + 1], the last = bytes needed).
struct Window {
  size_t begin = 0, end = 0;
  std::vector<size_t> generated;
  std::vector<uint64_t> offsets = {0};
};

std::vector<Window> PlanWindows(const std::vector<Piece>& pieces) {
  std::vector<Window> windows;
  for (size_t i = 0; i < pieces.size();) {
    Window w;
    w.begin = i;
    while (i < pieces.size() && (i == w.begin || w.offsets.back() + pieces[i].nbytes <= kWindowBytes)) {
      if (!pieces[i].is_scale) {
        w.generated.push_back(i);
        // 64-byte aligned: typed stores stay aligned, and two workers never share a cache line.
        w.offsets.push_back((w.offsets.back() + pieces[i].nbytes + 63) & ~uint64_t{63});
      }
      ++i;
    }
    w.end = i;
    windows.push_back(std::move(w));
  }
  return windows;
}

Status CheckOutDir(const std::string& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Status::PermissionDenied(dir + ": cannot create folder: " + ec.message());
  auto refuse = [&](const std::string& what) {
    return Status::FailedPrecondition(dir + ": already holds a checkpoint (" + what + "); choose an empty folder");
  };
  for (const char* name : {"config.json", "model.safetensors.index.json"})
    if (fs::exists(fs::path(dir) / name)) return refuse(name);
  for (const auto& entry : fs::directory_iterator(dir, ec))
    if (entry.path().extension() == ".safetensors") return refuse(entry.path().filename().string());
  if (ec) return Status::PermissionDenied(dir + ": cannot list folder: " + ec.message());
  return Status::Ok();
}

Status WriteTextFile(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) return Status::Internal(path.string() + ": write failed: " + std::strerror(errno));
  return Status::Ok();
}

// An open shard being streamed.
class ShardStream {
 public:
  ~ShardStream() {
    if (file_) std::fclose(file_);
  }
  Status Open(const fs::path& path, const std::string& header) {
    path_ = path.string();
    file_ = std::fopen(path_.c_str(), "wb");
    if (!file_) return Status::PermissionDenied(path_ + ": cannot create: " + std::strerror(errno));
    std::setvbuf(file_, nullptr, _IOFBF, 1 << 20);
    return Write(header.data(), header.size());
  }
  Status Write(const void* data, size_t n) {
    if (n && std::fwrite(data, 1, n, file_) != n)
      return Status::ResourceExhausted(path_ + ": write failed: " + std::strerror(errno));
    return Status::Ok();
  }
  Status Close() {
    if (!file_) return Status::Ok();
    const int rc = std::fclose(file_);
    file_ = nullptr;
    if (rc != 0) return Status::ResourceExhausted(path_ + ": write failed: " + std::strerror(errno));
    return Status::Ok();
  }

 private:
  std::string path_;
  std::FILE* file_ = nullptr;
};

// Runs fn(i, worker) for i in [0, n) on up to `threads` workers (worker < threads); inline when there is
// nothing to share.
template <typename Fn>
void ParallelFor(size_t n, int threads, const Fn& fn) {
  const size_t workers = std::min<size_t>(n, static_cast<size_t>(std::max(1, threads)));
  if (workers <= 1) {
    for (size_t i = 0; i < n; ++i) fn(i, size_t{0});
    return;
  }
  std::atomic<size_t> next{0};
  std::vector<std::thread> pool;
  for (size_t t = 0; t < workers; ++t)
    pool.emplace_back([&, t] {
      for (size_t i = next++; i < n; i = next++) fn(i, t);
    });
  for (std::thread& th : pool) th.join();
}

}  // namespace

StatusOr<CheckpointWriteSummary> WriteRandomCheckpoint(const ModelConfig& config,
                                                      const CheckpointWriterOptions& options) {
  const fs::path dir(options.out_dir);
  for (const char* f : kTokenizerFiles)
    if (!options.tokenizer_dir.empty() && !fs::exists(fs::path(options.tokenizer_dir) / f))
      return Status::NotFound((fs::path(options.tokenizer_dir) / f).string() + ": tokenizer file not found");
  SIEVE_RETURN_IF_ERROR(CheckOutDir(options.out_dir));

  const std::vector<TensorSpec> specs = ExpectedTensors(config);
  std::vector<WeightRecipe> recipes;
  for (const TensorSpec& s : specs) recipes.push_back(RecipeFor(s, config, options.seed));
  const std::vector<ShardPlan> shards = PlanShards(config, specs, recipes, std::max<uint64_t>(1, options.shard_bytes));
  const std::vector<Piece> pieces = PlanPieces(shards, recipes);

  CheckpointWriteSummary summary;
  summary.num_shards = static_cast<int>(shards.size());
  nlohmann::json weight_map = nlohmann::json::object();
  for (const ShardPlan& s : shards) {
    summary.tensor_bytes += s.bytes;
    summary.num_tensors += s.tensors.size();
    for (const StoredTensor& t : s.tensors) weight_map[t.entry.name] = s.file;
  }
  std::error_code ec;
  const fs::space_info space = fs::space(dir, ec);
  if (!ec && space.available < summary.tensor_bytes + (64ull << 20))
    return Status::ResourceExhausted(options.out_dir + ": needs " + std::to_string(summary.tensor_bytes >> 20) +
                                     " MiB, only " + std::to_string(space.available >> 20) + " MiB free");

  const int threads = options.num_threads > 0 ? options.num_threads
                                              : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  // Scales of FP8 weights, [row blocks, col blocks] each: filled by the weight's pieces, written (and freed)
  // at the scale's own piece. One vector per tensor, so filling one never moves another.
  std::vector<std::vector<float>> scales(specs.size());
  auto prepare = [&](const Window& w) {
    for (size_t i : w.generated) {
      const Piece& p = pieces[i];
      if (recipes[p.spec].fp8_blocks && scales[p.spec].empty())
        scales[p.spec].resize(static_cast<size_t>(NumElements(ScaleShape(specs[p.spec].shape, config))));
    }
  };
  // One float scratch per worker, reused by every window (only one window is generated at a time).
  std::vector<std::vector<float>> scratch(static_cast<size_t>(threads));
  auto generate = [&](const Window& w, std::vector<std::byte>* arena) {
    if (arena->size() < w.offsets.back()) arena->resize(w.offsets.back());
    ParallelFor(w.generated.size(), threads, [&](size_t g, size_t worker) {
      const Piece& p = pieces[w.generated[g]];
      const WeightRecipe& r = recipes[p.spec];
      float* scale_rows = r.fp8_blocks ? scales[p.spec].data() + (p.row_begin / r.block_rows) *
                                                                     ScaleShape(specs[p.spec].shape, config)[1]
                                       : nullptr;
      GenerateRows(r, specs[p.spec].shape, p.row_begin, p.row_end, arena->data() + w.offsets[g], scale_rows,
                   &scratch[worker]);
    });
  };
  ShardStream stream;
  size_t open_shard = shards.size();
  uint64_t done_bytes = 0;
  auto write = [&](const Window& w, const std::vector<std::byte>& arena) -> Status {
    for (size_t i = w.begin, g = 0; i < w.end; ++i) {
      const Piece& p = pieces[i];
      if (p.shard != open_shard) {
        SIEVE_RETURN_IF_ERROR(stream.Close());
        std::vector<SafetensorsEntry> entries;
        for (const StoredTensor& t : shards[p.shard].tensors) entries.push_back(t.entry);
        SIEVE_RETURN_IF_ERROR(
            stream.Open(dir / shards[p.shard].file, SafetensorsHeader(entries, {{"format", "pt"}})));
        open_shard = p.shard;
      }
      if (p.is_scale) {
        SIEVE_RETURN_IF_ERROR(stream.Write(scales[p.spec].data(), p.nbytes));
        std::vector<float>().swap(scales[p.spec]);
      } else {
        SIEVE_RETURN_IF_ERROR(stream.Write(arena.data() + w.offsets[g], p.nbytes));
        ++g;
      }
      done_bytes += p.nbytes;
    }
    return Status::Ok();
  };
  // Window k+1 is generated while window k is written, so the page-cache copies overlap the arithmetic.
  // A scale piece comes after all of its weight's pieces, so the two never touch the same scale vector.
  const std::vector<Window> windows = PlanWindows(pieces);
  std::vector<std::byte> arenas[2];
  if (!windows.empty()) {
    prepare(windows[0]);
    generate(windows[0], &arenas[0]);
  }
  for (size_t k = 0; k < windows.size(); ++k) {
    std::thread next;
    if (k + 1 < windows.size()) {
      prepare(windows[k + 1]);
      next = std::thread(generate, std::cref(windows[k + 1]), &arenas[(k + 1) % 2]);
    }
    const Status written = write(windows[k], arenas[k % 2]);
    if (next.joinable()) next.join();
    SIEVE_RETURN_IF_ERROR(written);
    if (options.progress) options.progress(done_bytes, summary.tensor_bytes);
  }
  SIEVE_RETURN_IF_ERROR(stream.Close());

  const nlohmann::json index = {{"metadata", {{"total_size", summary.tensor_bytes}}}, {"weight_map", weight_map}};
  SIEVE_RETURN_IF_ERROR(WriteTextFile(dir / "model.safetensors.index.json", index.dump(2) + "\n"));
  for (const char* f : kTokenizerFiles) {
    if (options.tokenizer_dir.empty()) break;
    fs::copy_file(fs::path(options.tokenizer_dir) / f, dir / f, fs::copy_options::overwrite_existing, ec);
    if (ec) return Status::Internal((dir / f).string() + ": cannot copy tokenizer file: " + ec.message());
  }
  // config.json last: its presence marks a complete checkpoint.
  SIEVE_RETURN_IF_ERROR(WriteTextFile(dir / "config.json", ModelConfigToJson(config)));
  return summary;
}

}  // namespace sieve::model
