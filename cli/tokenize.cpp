// `sieve tokenize --model DIR`: reads text on stdin (every byte, including a final newline) and prints
// its token ids as a JSON array. The server's /tokenize endpoint uses the same Tokenizer::Encode.
#include <iostream>
#include <iterator>
#include <nlohmann/json.hpp>

#include "cli/subcommands.h"
#include "text/tokenizer.h"

namespace sieve::cli {

namespace {
void RegisterTokenize(CLI::App& app, int* exit_code) {
  auto* cmd = app.add_subcommand("tokenize", "Print the token ids of the text on stdin as a JSON array");
  struct Flags {
    std::string model, tokenizer;
    bool add_special_tokens = false;
  };
  auto flags = std::make_shared<Flags>();
  cmd->add_option("--model", flags->model, "Model folder (reads its tokenizer.json)")->required();
  cmd->add_option("--tokenizer", flags->tokenizer, "Folder with tokenizer.json when the model folder has none");
  cmd->add_flag("--add-special-tokens", flags->add_special_tokens, "Prepend BOS, as LlamaTokenizerFast does");
  cmd->callback([flags, exit_code] {
    auto tokenizer = text::Tokenizer::LoadFromDir(flags->tokenizer.empty() ? flags->model : flags->tokenizer);
    if (!tokenizer.ok()) {
      PrintError(tokenizer.status().message());
      *exit_code = 1;
      return;
    }
    const std::string input((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
    std::vector<int32_t> ids = (*tokenizer)->Encode(input);
    if (flags->add_special_tokens) {
      const auto bos = (*tokenizer)->TokenToId("<｜begin▁of▁sentence｜>");
      if (!bos) {
        PrintError("the tokenizer has no <｜begin▁of▁sentence｜> token");
        *exit_code = 1;
        return;
      }
      ids.insert(ids.begin(), *bos);
    }
    std::printf("%s\n", nlohmann::json(ids).dump().c_str());
  });
}
}  // namespace

SIEVE_SUBCOMMAND(RegisterTokenize);

}  // namespace sieve::cli
