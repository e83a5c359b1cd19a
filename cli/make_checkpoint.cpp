// `sieve make-checkpoint --out DIR --preset tiny|small|medium|full-shape [--num-layers N] [--seed S]
// [--dtype fp8|bf16]`: writes a random DeepSeek-V3.2 checkpoint in the real Hugging Face layout, with the
// vendored tokenizer (assets/tokenizer), for tests, demos and benchmarks.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "cli/subcommands.h"
#include "model/checkpoint_presets.h"
#include "model/checkpoint_writer.h"

namespace sieve::cli {

namespace {

namespace fs = std::filesystem;

struct MakeCheckpointArgs {
  std::string out;
  std::string preset;
  int64_t num_layers = 0;  // 0: the preset's
  uint64_t seed = 0;
  std::string dtype = "fp8";
};

// The vendored tokenizer: $SIEVE_ASSETS if set; else an assets/ folder beside the executable (or one
// or two levels up, or share/sieve/assets for an installed binary); else the source tree it was built from.
StatusOr<std::string> FindTokenizerDir() {
  auto has_tokenizer = [](const fs::path& assets) { return fs::exists(assets / "tokenizer" / "tokenizer.json"); };
  if (const char* env = std::getenv("SIEVE_ASSETS"); env && *env) {
    if (has_tokenizer(env)) return (fs::path(env) / "tokenizer").string();
    return Status::NotFound(std::string("SIEVE_ASSETS=") + env + ": no tokenizer/tokenizer.json in it");
  }
  std::vector<fs::path> candidates;
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    const fs::path bin = exe.parent_path();
    candidates = {bin / "assets", bin.parent_path() / "assets", bin.parent_path() / "share" / "sieve" / "assets"};
  }
  candidates.push_back(SIEVE_ASSETS_DIR);
  std::string looked;
  for (const fs::path& c : candidates) {
    if (has_tokenizer(c)) return (c / "tokenizer").string();
    looked += (looked.empty() ? "" : ", ") + c.string();
  }
  return Status::NotFound("tokenizer files not found (looked for tokenizer/tokenizer.json in " + looked +
                          "); set SIEVE_ASSETS to the assets folder of the Sieve source tree");
}

// "[#######.............]  35%  1.2 / 3.4 GB" on stderr, redrawn when the percentage changes.
class ProgressBar {
 public:
  void Update(uint64_t done, uint64_t total) {
    const int percent = total ? static_cast<int>(100 * done / total) : 100;
    if (percent == last_percent_) return;
    last_percent_ = percent;
    constexpr int kWidth = 30;
    std::string bar(kWidth, '.');
    std::fill(bar.begin(), bar.begin() + percent * kWidth / 100, '#');
    std::fprintf(stderr, "\r[%s] %3d%%  %.2f / %.2f GB", bar.c_str(), percent, done / 1e9, total / 1e9);
    if (done >= total) std::fprintf(stderr, "\n");
    std::fflush(stderr);
  }

 private:
  int last_percent_ = -1;
};

Status MakeCheckpoint(const MakeCheckpointArgs& args) {
  SIEVE_ASSIGN_OR_RETURN(model::CheckpointPreset preset, model::FindCheckpointPreset(args.preset));
  if (args.num_layers != 0) SIEVE_RETURN_IF_ERROR(model::SetNumLayers(args.num_layers, &preset.config));
  if (args.dtype == "bf16") model::MakeBf16Only(&preset.config);
  model::CheckpointWriterOptions options;
  options.out_dir = args.out;
  options.seed = args.seed;
  options.shard_bytes = preset.shard_bytes;
  SIEVE_ASSIGN_OR_RETURN(options.tokenizer_dir, FindTokenizerDir());
  ProgressBar bar;
  if (::isatty(STDERR_FILENO)) options.progress = [&bar](uint64_t done, uint64_t total) { bar.Update(done, total); };
  const auto start = std::chrono::steady_clock::now();
  SIEVE_ASSIGN_OR_RETURN(model::CheckpointWriteSummary summary, model::WriteRandomCheckpoint(preset.config, options));
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("wrote %s: preset %s (%s), %lld layers + %lld MTP, %zu tensors, %.1f MB in %d shards, %.1f s\n",
              args.out.c_str(), preset.name.c_str(), args.dtype.c_str(),
              static_cast<long long>(preset.config.num_hidden_layers),
              static_cast<long long>(preset.config.num_nextn_predict_layers), summary.num_tensors,
              summary.tensor_bytes / 1e6, summary.num_shards, seconds);
  return Status::Ok();
}

void RegisterMakeCheckpoint(CLI::App& app, int* exit_code) {
  auto* cmd = app.add_subcommand("make-checkpoint", "Write a random DeepSeek-V3.2 checkpoint (real layout)");
  auto args = std::make_shared<MakeCheckpointArgs>();
  cmd->add_option("--out", args->out, "Output folder (created; must not hold a checkpoint)")->required();
  cmd->add_option("--preset", args->preset,
                  "tiny (fixture dims, real vocab), small (~1.5 GB), medium (~5 GB), full-shape (671B dims)")
      ->required()
      ->check(CLI::IsMember(model::CheckpointPresetNames()));
  cmd->add_option("--num-layers", args->num_layers,
                  "num_hidden_layers (first_k_dense_replace becomes min(preset's, N-1)); MTP layer kept")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--seed", args->seed, "Random seed (same seed, same bytes)");
  cmd->add_option("--dtype", args->dtype, "fp8: e4m3 128x128 block weights (as released); bf16: no quantization_config")
      ->check(CLI::IsMember({"fp8", "bf16"}));
  cmd->callback([args, exit_code] {
    const Status status = MakeCheckpoint(*args);
    if (!status.ok()) {
      PrintError(status.message());
      *exit_code = 1;
    }
  });
}

}  // namespace

SIEVE_SUBCOMMAND(RegisterMakeCheckpoint);

}  // namespace sieve::cli
