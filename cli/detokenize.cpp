// `sieve detokenize --model DIR`: reads a JSON array of token ids on stdin and prints their text exactly
// (no newline added).
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/subcommands.h"
#include "text/tokenizer.h"

namespace sieve::cli {

namespace {
void RegisterDetokenize(CLI::App& app, int* exit_code) {
  auto* cmd = app.add_subcommand("detokenize", "Print the text of a JSON array of token ids read on stdin");
  struct Flags {
    std::string model, tokenizer;
    bool skip_special_tokens = false;
  };
  auto flags = std::make_shared<Flags>();
  cmd->add_option("--model", flags->model, "Model folder (reads its tokenizer.json)")->required();
  cmd->add_option("--tokenizer", flags->tokenizer, "Folder with tokenizer.json when the model folder has none");
  cmd->add_flag("--skip-special-tokens", flags->skip_special_tokens, "Drop BOS/EOS and other special tokens");
  cmd->callback([flags, exit_code] {
    auto tokenizer = text::Tokenizer::LoadFromDir(flags->tokenizer.empty() ? flags->model : flags->tokenizer);
    if (!tokenizer.ok()) {
      PrintError(tokenizer.status().message());
      *exit_code = 1;
      return;
    }
    const nlohmann::json input = nlohmann::json::parse(std::cin, nullptr, /*allow_exceptions=*/false);
    std::vector<int32_t> ids;
    bool valid = input.is_array();
    for (const auto& v : valid ? input : nlohmann::json::array()) {
      if (!v.is_number_integer() || v.get<int64_t>() < INT32_MIN || v.get<int64_t>() > INT32_MAX) valid = false;
      if (valid) ids.push_back(v.get<int32_t>());
    }
    if (!valid) {
      PrintError("stdin must be a JSON array of integer token ids");
      *exit_code = 1;
      return;
    }
    const std::string text = (*tokenizer)->Decode(ids, flags->skip_special_tokens);
    std::fwrite(text.data(), 1, text.size(), stdout);
  });
}
}  // namespace

SIEVE_SUBCOMMAND(RegisterDetokenize);

}  // namespace sieve::cli
