// `sieve serve MODEL_DIR [flags]`: the OpenAI-compatible server, a drop-in for `vllm serve` clients.
// Flag names are vLLM's (--host --port --served-model-name --api-key --max-model-len --max-num-seqs
// --kv-cache-dtype --tokenizer-mode --tool-call-parser --reasoning-parser --enable-auto-tool-choice --seed
// --log-level, plus the engine flags). SIGINT/SIGTERM drain in-flight requests and exit 0.
#include <pthread.h>

#include <atomic>
#include <csignal>
#include <fmt/format.h>
#include <memory>
#include <string>
#include <thread>

#include "cli/subcommands.h"
#include "core/logging.h"
#include "engine/engine_flags.h"
#include "model/checkpoint.h"
#include "model/model.h"
#include "server/http_server.h"
#include "text/tokenizer.h"

namespace sieve::cli {

namespace {

struct ServeArgs {
  std::string model_dir;
  std::string served_model_name;
  server::HttpServerOptions http;
  engine::EngineOptions engine;
  std::string tokenizer_mode = "auto";
  std::string tool_call_parser;
  std::string reasoning_parser;
  bool enable_auto_tool_choice = false;
  std::string log_level = "info";
  int threads = 0;
  double shutdown_timeout_s = 30;
  int http_threads = 0;
};

// Everything before the engine starts: a failure here is a runtime error (exit 1) with one line.
StatusOr<server::ServingContext> BuildContext(const ServeArgs& a, const model::ModelConfig& config) {
  server::ServingContext c;
  c.served_model_name = a.served_model_name.empty() ? a.model_dir : a.served_model_name;
  c.model_dir = a.model_dir;
  c.bos_token_id = static_cast<int32_t>(config.bos_token_id);
  c.eos_token_id = static_cast<int32_t>(config.eos_token_id);
  SIEVE_ASSIGN_OR_RETURN(std::optional<text::ChatFamily> family, text::ChatFamilyFromTokenizerMode(a.tokenizer_mode));
  c.chat_family = family ? *family : text::DetectChatFamily(a.model_dir, a.model_dir);
  SIEVE_ASSIGN_OR_RETURN(c.tool_call_format, text::ToolCallFormatFromName(a.tool_call_parser));
  SIEVE_ASSIGN_OR_RETURN(c.parse_reasoning, text::ReasoningParserFromName(a.reasoning_parser));
  c.enable_auto_tool_choice = a.enable_auto_tool_choice;
  if (c.enable_auto_tool_choice && c.tool_call_format == text::ToolCallFormat::kNone)
    return Status::InvalidArgument("--enable-auto-tool-choice needs --tool-call-parser");
  return c;
}

int RunServe(ServeArgs& a) {
  if (!SetLogLevel(a.log_level)) {
    PrintError("--log-level: unknown level '" + a.log_level + "' (trace, debug, info, warning, error, critical)");
    return 2;
  }
  // Signals go to one waiting thread (started below), never to a worker in the middle of a step.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);  // a client that went away is a failed write, not a dead server

  auto checkpoint = model::Checkpoint::Open(a.model_dir);
  if (!checkpoint.ok()) return PrintError(checkpoint.status().message()), 1;
  const model::ModelConfig config = (*checkpoint)->config();
  auto tokenizer = text::Tokenizer::LoadFromDir(a.model_dir);
  if (!tokenizer.ok()) return PrintError(tokenizer.status().message()), 1;
  auto context = BuildContext(a, config);
  if (!context.ok()) return PrintError(context.status().message()), 2;
  auto model = model::Model::Load(std::shared_ptr<const model::Checkpoint>(std::move(checkpoint).value()),
                                  {.num_threads = a.threads});
  if (!model.ok()) return PrintError(model.status().message()), 1;
  std::shared_ptr<const text::Tokenizer> shared_tokenizer(std::move(tokenizer).value());
  auto engine = engine::Engine::Create(std::shared_ptr<model::Model>(std::move(model).value()), shared_tokenizer, a.engine);
  if (!engine.ok()) return PrintError(engine.status().message()), 2;

  context->tokenizer = shared_tokenizer;
  context->limits = {.vocab_size = config.vocab_size,
                     .max_model_len = (*engine)->max_model_len(),
                     .max_num_seqs = a.engine.max_num_seqs,
                     .has_tokenizer = true};
  server::Metrics metrics(context->served_model_name);
  server::ServerState state{.context = *context, .engine = **engine, .metrics = metrics};
  a.http.num_threads = a.http_threads > 0 ? a.http_threads : static_cast<int>(a.engine.max_num_seqs) + 32;
  server::HttpServer http(state, a.http);
  if (Status s = http.Bind(); !s.ok()) {
    (*engine)->Shutdown();
    return PrintError(s.message()), 1;
  }
  const engine::EngineStats stats = (*engine)->Stats();
  spdlog::info("sieve serve: model {} ({}), chat format {}, max_model_len {}, parallel layout: 1 process, {} threads",
               context->served_model_name, a.model_dir, text::ChatFamilyName(context->chat_family),
               context->limits.max_model_len, a.threads == 0 ? std::thread::hardware_concurrency() : unsigned(a.threads));
  spdlog::info("KV cache: {} tokens ({} blocks), max {} sequences; listening on http://{}:{}", stats.kv_token_capacity,
               stats.kv_blocks_total, a.engine.max_num_seqs, a.http.host, http.port());

  std::atomic<bool> signalled{false};
  std::thread signal_waiter([&] {
    int signal = 0;
    sigwait(&stop_signals, &signal);
    signalled = true;
    spdlog::info("received {}; stopping", signal == SIGINT ? "SIGINT" : "SIGTERM");
    http.Shutdown(std::chrono::milliseconds(static_cast<int64_t>(a.shutdown_timeout_s * 1000)));
  });
  const Status served = http.Serve();
  if (!signalled) pthread_kill(signal_waiter.native_handle(), SIGTERM);  // the server stopped by itself: wake the waiter
  signal_waiter.join();
  (*engine)->Shutdown();
  if (!served.ok()) return PrintError(served.message()), 1;
  spdlog::info("stopped");
  return 0;
}

void RegisterServe(CLI::App& app, int* exit_code) {
  auto* cmd = app.add_subcommand("serve", "OpenAI-compatible HTTP server (a drop-in for `vllm serve`)");
  auto a = std::make_shared<ServeArgs>();
  cmd->add_option("model_dir", a->model_dir, "Checkpoint folder (with tokenizer.json)")->required();
  cmd->add_option("--host", a->http.host, "Address to listen on")->capture_default_str();
  cmd->add_option("--port", a->http.port, "Port (0: any free port)")->capture_default_str();
  cmd->add_option("--served-model-name", a->served_model_name, "The model name clients send (default: MODEL_DIR)");
  cmd->add_option("--api-key", a->http.api_key, "Require 'Authorization: Bearer <key>' on every endpoint but /health");
  cmd->add_option("--tokenizer-mode", a->tokenizer_mode, "auto or deepseek_v32")->capture_default_str();
  cmd->add_option("--tool-call-parser", a->tool_call_parser, "deepseekv32 (DSML) or deepseekv31");
  cmd->add_option("--reasoning-parser", a->reasoning_parser, "deepseek-v3: split <think> into reasoning_content");
  cmd->add_flag("--enable-auto-tool-choice", a->enable_auto_tool_choice, "Allow tool_choice \"auto\"");
  cmd->add_option("--log-level,--uvicorn-log-level", a->log_level, "trace, debug, info, warning, error")
      ->capture_default_str();
  cmd->add_option("--threads", a->threads, "Model compute threads (0: all cores)")->capture_default_str();
  cmd->add_option("--http-threads", a->http_threads, "HTTP connection threads; each open stream holds one (0: --max-num-seqs + 32)")
      ->capture_default_str()
      ->check(CLI::Range(0, 4096));
  cmd->add_option("--max-request-body-bytes", a->http.max_request_body_bytes, "Larger bodies get 413")
      ->capture_default_str();
  cmd->add_option("--shutdown-timeout", a->shutdown_timeout_s,
                  "Seconds in-flight requests get to finish after SIGINT/SIGTERM before they are aborted")
      ->capture_default_str();
  engine::AddEngineFlags(*cmd, &a->engine);
  cmd->callback([a, exit_code] { *exit_code = RunServe(*a); });
}

}  // namespace

SIEVE_SUBCOMMAND(RegisterServe);

}  // namespace sieve::cli
