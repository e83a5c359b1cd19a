// `sieve chat-encode --model DIR [--thinking]`: reads an OpenAI chat request body on stdin and prints the
// prompt string the server would give the model (no newline added). The family (V3.2, V3.2-Exp,
// Speciale) is detected from the model folder or forced with --tokenizer-mode deepseek_v32.
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/subcommands.h"
#include "text/chat_encoding.h"

namespace sieve::cli {

namespace {
void RegisterChatEncode(CLI::App& app, int* exit_code) {
  auto* cmd = app.add_subcommand("chat-encode", "Print the prompt for an OpenAI chat request read on stdin");
  struct Flags {
    std::string model, tokenizer, tokenizer_mode = "auto";
    bool thinking = false;
  };
  auto flags = std::make_shared<Flags>();
  cmd->add_option("--model", flags->model, "Model folder (config.json, tokenizer_config.json)")->required();
  cmd->add_option("--tokenizer", flags->tokenizer, "Folder with the tokenizer files when the model folder has none");
  cmd->add_option("--tokenizer-mode", flags->tokenizer_mode, "auto | deepseek_v32 (as vLLM)");
  cmd->add_flag("--thinking", flags->thinking, "Thinking mode unless the request's chat_template_kwargs says");
  cmd->callback([flags, exit_code] {
    auto fail = [exit_code](const std::string& message, int code = 1) {
      PrintError(message);
      *exit_code = code;
    };
    auto forced = text::ChatFamilyFromTokenizerMode(flags->tokenizer_mode);
    if (!forced.ok()) return fail(forced.status().message(), 2);
    const text::ChatFamily family = forced->value_or(
        text::DetectChatFamily(flags->model, flags->tokenizer.empty() ? flags->model : flags->tokenizer));
    const auto request = nlohmann::ordered_json::parse(std::cin, nullptr, /*allow_exceptions=*/false);
    if (request.is_discarded()) return fail("stdin is not a JSON request body");
    text::ChatOptions options;
    options.default_thinking = flags->thinking;
    auto prompt = text::EncodeChat(request, family, options);
    if (!prompt.ok()) {
      const Status& s = prompt.status();
      return fail(s.param().empty() ? s.message() : s.param() + ": " + s.message());
    }
    std::fwrite(prompt->text.data(), 1, prompt->text.size(), stdout);
  });
}
}  // namespace

SIEVE_SUBCOMMAND(RegisterChatEncode);

}  // namespace sieve::cli
