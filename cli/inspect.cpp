// `sieve inspect MODEL_DIR`: opens and validates a checkpoint and prints what it holds as JSON.
#include <nlohmann/json.hpp>

#include "cli/subcommands.h"
#include "model/checkpoint.h"

namespace sieve::cli {

namespace {
void RegisterInspect(CLI::App& app, int* exit_code) {
  auto* cmd = app.add_subcommand("inspect", "Validate a checkpoint folder and print a summary");
  auto dir = std::make_shared<std::string>();
  cmd->add_option("model", *dir, "Checkpoint folder (config.json + safetensors)")->required();
  cmd->callback([dir, exit_code] {
    auto ckpt = model::Checkpoint::Open(*dir);
    if (!ckpt.ok()) {
      PrintError(ckpt.status().message());
      *exit_code = 1;
      return;
    }
    const model::ModelConfig& c = (*ckpt)->config();
    nlohmann::json j = {{"model_type", c.model_type},
                        {"num_hidden_layers", c.num_hidden_layers},
                        {"num_nextn_predict_layers", c.num_nextn_predict_layers},
                        {"hidden_size", c.hidden_size},
                        {"vocab_size", c.vocab_size},
                        {"n_routed_experts", c.n_routed_experts},
                        {"sparse_attention", c.has_indexer()},
                        {"weights", c.is_fp8() ? "fp8" : "bf16"},
                        {"tensors", (*ckpt)->NumTensors()},
                        {"bytes", (*ckpt)->TotalBytes()},
                        {"status", "ok"}};
    std::printf("%s\n", j.dump(2).c_str());
  });
}

}  // namespace

SIEVE_SUBCOMMAND(RegisterInspect);

}  // namespace sieve::cli
