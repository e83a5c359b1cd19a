// `sieve eval gsm8k`: lm-evaluation-harness's gsm8k task (5-shot, strict-match and flexible-extract
// exact_match) against any OpenAI-compatible completions or chat endpoint; prints lm-eval's table.
#include <unistd.h>

#include <cstdio>
#include <fmt/format.h>

#include "cli/subcommands.h"
#include "clients/gsm8k_dataset.h"
#include "clients/gsm8k_eval.h"

namespace sieve::cli {
namespace {

struct EvalGsm8kFlags {
  clients::Gsm8kEvalOptions options;
  size_t limit = 0;
  std::string data_dir = std::string(SIEVE_ASSETS_DIR) + "/gsm8k";
};

// lm-eval's header line: "<model> (<model_args>), gen_kwargs: (None), limit: 5.0, num_fewshot: 5, batch_size: 1".
void PrintHeader(const EvalGsm8kFlags& f, const std::string& url) {
  const auto& o = f.options;
  std::printf("%s (model=%s,base_url=%s,num_concurrent=%d), gen_kwargs: (None), limit: %s, num_fewshot: %zu, "
              "batch_size: 1\n",
              o.chat ? "local-chat-completions" : "local-completions", o.generation.model.c_str(), url.c_str(),
              o.num_concurrent, o.limit ? (std::to_string(*o.limit) + ".0").c_str() : "None", o.num_fewshot);
}

int RunEvalGsm8k(EvalGsm8kFlags& f) {
  if (f.limit > 0) f.options.limit = f.limit;
  auto test = clients::LoadGsm8kSplit(f.data_dir + "/test.jsonl");
  auto train = test.ok() ? clients::LoadGsm8kSplit(f.data_dir + "/train.jsonl") : test.status();
  if (!train.ok()) {
    PrintError(train.status().message());
    return 1;
  }
  const bool on_terminal = ::isatty(STDERR_FILENO) != 0;
  auto progress = [on_terminal](size_t done, size_t total) {
    if (!on_terminal) return;
    std::fprintf(stderr, "\rgsm8k: %zu/%zu requests", done, total);
    if (done == total) std::fprintf(stderr, "\n");
  };
  auto result = clients::RunGsm8kEval(f.options, *test, *train, progress);
  if (!result.ok()) {
    PrintError(result.status().message());
    return 1;
  }
  PrintHeader(f, result->endpoint_url);
  std::printf("%s", clients::FormatLmEvalTable("gsm8k", "3", static_cast<int>(f.options.num_fewshot),
                                               result->scores).c_str());
  if (result->failed_requests > 0) {
    // lm-eval would abort here; we report and score the failures as empty answers instead.
    std::string first_error;
    for (const auto& d : result->docs)
      if (!d.error.empty()) {
        first_error = d.error;
        break;
      }
    PrintError(fmt::format("{} of {} requests failed after {} attempts (scored as empty answers); first: {}",
                           result->failed_requests, result->docs.size(), f.options.max_attempts, first_error));
    return 1;
  }
  return 0;
}

void RegisterEvalGsm8k(CLI::App& app, int* exit_code) {
  CLI::App* eval = SubcommandGroup(app, "eval", "Accuracy evaluations against an OpenAI-compatible server");
  auto* cmd = eval->add_subcommand("gsm8k", "lm-eval's gsm8k task (5-shot, exact_match) against a server");
  auto flags = std::make_shared<EvalGsm8kFlags>();
  auto& o = flags->options;
  cmd->add_option("--base-url", o.base_url, "Server URL (http://host:port, .../v1 or the full .../completions URL)")
      ->required();
  cmd->add_option("--model", o.generation.model, "Model name sent in each request")->required();
  cmd->add_option("--num-fewshot", o.num_fewshot, "Few-shot examples per prompt")->capture_default_str();
  cmd->add_option("--limit", flags->limit, "Evaluate only the first N test docs (0 = all 1319)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--num-concurrent", o.num_concurrent, "Requests in flight at once")
      ->capture_default_str()->check(CLI::PositiveNumber);
  cmd->add_option("--max-tokens", o.generation.max_tokens, "max_tokens per request (lm-eval's max_gen_toks)")
      ->capture_default_str()->check(CLI::PositiveNumber);
  cmd->add_option("--timeout", o.timeout_s, "Seconds to wait on a connection read or write")
      ->capture_default_str()->check(CLI::PositiveNumber);
  cmd->add_flag("--chat", o.chat, "Use /v1/chat/completions with multi-turn few-shot messages");
  cmd->add_option("--data-dir", flags->data_dir, "Folder with GSM8K test.jsonl and train.jsonl")
      ->capture_default_str();
  cmd->callback([flags, exit_code] { *exit_code = RunEvalGsm8k(*flags); });
}

}  // namespace

SIEVE_SUBCOMMAND(RegisterEvalGsm8k);

}  // namespace sieve::cli
