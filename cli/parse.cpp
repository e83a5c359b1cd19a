// `sieve parse --model DIR --tool-call-parser deepseekv32|deepseekv31 --reasoning-parser deepseek-v3
// [--thinking] [--stream-chunk-size N]`: reads raw model output on stdin and prints the OpenAI assistant
// message as JSON; with a chunk size, the text is tokenized and streamed N tokens at a time through the
// incremental detokenizer and output parser, and each streaming delta is printed as one JSON line.
#include <iostream>
#include <iterator>
#include <nlohmann/json.hpp>

#include "cli/subcommands.h"
#include "text/incremental_detokenizer.h"
#include "text/output_parser.h"
#include "text/tokenizer.h"

namespace sieve::cli {

namespace {

using json = nlohmann::ordered_json;  // keys in OpenAI's order

json NullIfEmpty(const std::string& s) { return s.empty() ? json() : json(s); }

json DeltaJson(const text::MessageDelta& d) {
  json out = json::object();
  if (!d.reasoning_content.empty()) out["reasoning_content"] = d.reasoning_content;
  if (!d.content.empty()) out["content"] = d.content;
  for (const auto& c : d.tool_calls) {
    json call = {{"index", c.index}, {"function", {{"arguments", c.arguments}}}};
    if (!c.id.empty()) call["id"] = c.id, call["type"] = "function";
    if (!c.name.empty()) call["function"]["name"] = c.name;
    out["tool_calls"].push_back(call);
  }
  return out;
}

void Print(const json& j) {
  // Model output may hold invalid UTF-8 only if the input did; replace rather than throw.
  std::printf("%s\n", j.dump(-1, ' ', false, json::error_handler_t::replace).c_str());
}

void RegisterParse(CLI::App& app, int* exit_code) {
  auto* cmd = app.add_subcommand("parse", "Parse raw model output on stdin into an OpenAI assistant message");
  struct Flags {
    std::string model, tokenizer, tool_call_parser, reasoning_parser;
    bool thinking = false;
    int stream_chunk_size = 0;
  };
  auto flags = std::make_shared<Flags>();
  cmd->add_option("--model", flags->model, "Model folder (its tokenizer is used for --stream-chunk-size)")->required();
  cmd->add_option("--tokenizer", flags->tokenizer, "Folder with tokenizer.json when the model folder has none");
  cmd->add_option("--tool-call-parser", flags->tool_call_parser, "deepseekv32 | deepseekv31");
  cmd->add_option("--reasoning-parser", flags->reasoning_parser, "deepseek-v3");
  cmd->add_flag("--thinking", flags->thinking, "The prompt ended with <think>: output starts as reasoning");
  cmd->add_option("--stream-chunk-size", flags->stream_chunk_size, "Stream N tokens per chunk, print the deltas")
      ->check(CLI::PositiveNumber);
  cmd->callback([flags, exit_code] {
    auto fail = [exit_code](const std::string& message, int code = 1) {
      PrintError(message);
      *exit_code = code;
    };
    auto format = text::ToolCallFormatFromName(flags->tool_call_parser);
    if (!format.ok()) return fail(format.status().message(), 2);
    auto reasoning = text::ReasoningParserFromName(flags->reasoning_parser);
    if (!reasoning.ok()) return fail(reasoning.status().message(), 2);
    text::OutputParserOptions options;
    options.tool_call_format = *format;
    options.parse_reasoning = *reasoning;
    options.starts_in_thinking = flags->thinking;
    const std::string input((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());

    if (flags->stream_chunk_size == 0) {
      text::OutputParser parser(options);
      text::ParsedMessage message;
      for (const auto& d : parser.Push(input)) text::AccumulateDelta(d, &message);
      for (const auto& d : parser.Finish()) text::AccumulateDelta(d, &message);
      json calls = json::array();
      for (const auto& c : message.tool_calls)
        calls.push_back({{"id", c.id}, {"type", "function"}, {"function", {{"name", c.name}, {"arguments", c.arguments}}}});
      Print({{"role", "assistant"},
             {"content", NullIfEmpty(message.content)},
             {"reasoning_content", NullIfEmpty(message.reasoning_content)},
             {"tool_calls", calls},
             {"finish_reason", parser.made_tool_calls() ? "tool_calls" : "stop"}});
      return;
    }
    auto tokenizer = text::Tokenizer::LoadFromDir(flags->tokenizer.empty() ? flags->model : flags->tokenizer);
    if (!tokenizer.ok()) return fail(tokenizer.status().message());
    const std::vector<int32_t> ids = (*tokenizer)->Encode(input);
    text::IncrementalDetokenizer detokenizer(**tokenizer, /*skip_special_tokens=*/false);
    text::OutputParser parser(options);
    std::string chunk;
    for (size_t i = 0; i < ids.size(); ++i) {
      chunk += detokenizer.Push(ids[i]);
      if ((i + 1) % flags->stream_chunk_size != 0 && i + 1 != ids.size()) continue;
      for (const auto& d : parser.Push(chunk)) Print(DeltaJson(d));
      chunk.clear();
    }
    for (const auto& d : parser.Push(detokenizer.Flush())) Print(DeltaJson(d));
    for (const auto& d : parser.Finish()) Print(DeltaJson(d));
    Print({{"finish_reason", parser.made_tool_calls() ? "tool_calls" : "stop"}});
  });
}
}  // namespace

SIEVE_SUBCOMMAND(RegisterParse);

}  // namespace sieve::cli
