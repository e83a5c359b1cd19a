// `sieve serve MODEL_DIR [--host H] [--port P] [engine flags] ...`: an OpenAI-compatible HTTP server
// that vLLM and SGLang clients use unchanged (flag names as `vllm serve`). SIGINT/SIGTERM stop accepting
// connections, let in-flight requests finish for a grace period, abort the rest, and exit 0.
// Under `mpirun -np N` with --tensor-parallel-size/--tp and optionally --enable-expert-parallel/--ep, rank 0
// serves and the other ranks follow its model calls in lock-step (engine/lock_step_model.h); on a stop
// signal rank 0 drains, then tells them to stop, so every process exits 0. DP > 1 is not supported yet.

#include <algorithm>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <thread>

#include "cli/no_mmap_flag.h"
#include "cli/parallel_session.h"
#include "cli/serve_lock_step.h"
#include "cli/stop_signals.h"
#include "cli/subcommands.h"
#include "core/logging.h"
#include "engine/engine_flags.h"
#include "engine/lock_step_model.h"
#include "engine/replica_sync.h"
#include "engine/speculative_config.h"
#include "model/model.h"
#include "parallel/parallel_flags.h"
#include "server/http_server.h"
#include "text/tokenizer.h"

namespace sieve::cli {

namespace {

// How long in-flight requests may run on after a stop signal before they are aborted.
constexpr std::chrono::seconds kShutdownGrace{10};

struct ServeArgs {
  std::string model_dir;
  std::string host = "127.0.0.1";
  int port = 8000;
  std::vector<std::string> served_model_names;
  std::string api_key;
  std::string tokenizer_mode = "auto";
  std::string tool_call_parser;
  std::string reasoning_parser;
  bool enable_auto_tool_choice = false;
  std::string log_level = "info";
  int threads = 0;
  bool no_mmap = false;
  int http_threads = 0;  // 0: enough for every running sequence to stream, plus spare
  int64_t max_request_body_bytes = server::kDefaultMaxRequestBodyBytes;
  engine::EngineOptions engine;
  parallel::ParallelConfig parallel;
};

// The chat, tool and reasoning settings the flags ask for.
StatusOr<server::ChatSettings> ChatSettingsFor(const ServeArgs& a) {
  server::ChatSettings s;
  SIEVE_ASSIGN_OR_RETURN(const std::optional<text::ChatFamily> forced, text::ChatFamilyFromTokenizerMode(a.tokenizer_mode));
  s.family = forced ? *forced : text::DetectChatFamily(a.model_dir, a.model_dir);
  SIEVE_ASSIGN_OR_RETURN(s.tool_call_format, text::ToolCallFormatFromName(a.tool_call_parser));
  SIEVE_ASSIGN_OR_RETURN(s.parse_reasoning, text::ReasoningParserFromName(a.reasoning_parser));
  s.enable_auto_tool_choice = a.enable_auto_tool_choice;
  if (s.enable_auto_tool_choice && s.tool_call_format == text::ToolCallFormat::kNone)
    return Status::InvalidArgument("--enable-auto-tool-choice needs --tool-call-parser");
  return s;
}

// Waits until in-flight generations are done or `deadline` passes; true if none is left.
bool WaitForInFlight(const server::ServerState& state, std::chrono::steady_clock::time_point deadline) {
  while (state.in_flight > 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  return state.in_flight == 0;
}

// Waits for SIGINT/SIGTERM (cli/stop_signals.h), then drains:
// new generations get 503 at once; running ones may finish within the grace period, after which the
// engine aborts them (their streams end with finish_reason "abort" and [DONE]); only then does the HTTP
// server stop, since cpp-httplib cuts open streams when it stops.
void WaitForStopSignal(server::ServerState& state, server::HttpServer& http, engine::Engine& engine) {
  const int signal = StopSignals::Wait();
  if (state.draining.exchange(true)) return;  // Run() ended on its own and woke us
  spdlog::info("{}: stopping; {} request(s) in flight",
               signal == SIGINT ? "SIGINT" : signal == SIGTERM ? "SIGTERM" : "another data-parallel replica stopped",
               state.in_flight.load());
  if (!WaitForInFlight(state, std::chrono::steady_clock::now() + kShutdownGrace)) {
    spdlog::warn("aborting {} request(s) still running", state.in_flight.load());
    engine.Shutdown();
    WaitForInFlight(state, std::chrono::steady_clock::now() + std::chrono::seconds(5));
  }
  http.Stop();
}

int RunServe(ServeArgs a) {
  // Before MPI_Init starts threads of its own: a stop signal from here on drains the server (every rank
  // catches it; followers end when rank 0, after draining, sends stop). A closed client socket is an error
  // return, not SIGPIPE.
  if (Status s = StopSignals::Install(); !s.ok()) {
    PrintError(s.message());
    return 1;
  }
  std::signal(SIGPIPE, SIG_IGN);
  std::unique_ptr<ParallelSession> session_ptr;
  const Status started = ParallelSession::Start(a.parallel, &session_ptr);
  const ParallelSession& session = *session_ptr;
  // The checks before the model loads depend only on the flags, so every rank meets the same error and
  // rank 0 alone prints it.
  auto report = [&](const std::string& message) {
    if (session.is_root()) PrintError(message);
  };
  if (!started.ok()) {
    report(started.message());
    return 2;
  }
  if (!SetLogLevel(a.log_level)) {
    report("--log-level: unknown level '" + a.log_level + "'");
    return 2;
  }
  auto chat = ChatSettingsFor(a);
  if (!chat.ok()) {
    report(chat.status().message());
    return 2;
  }
  auto num_speculative_tokens = engine::ResolveNumSpeculativeTokens(a.engine);
  if (!num_speculative_tokens.ok()) {
    report(num_speculative_tokens.status().message());
    return 2;
  }
  const parallel::ParallelLayout& layout = session.layout();
  if (Status s = CheckNoMmapLayout(a.no_mmap, layout); !s.ok()) {
    report(s.message());
    return 2;
  }
  if (layout.dp_size > 1 && *num_speculative_tokens > 0) {
    // A speculative step makes several model calls, and an idle replica mirrors exactly one.
    report("serve: speculative decoding with --data-parallel-size > 1 is not supported yet");
    return 2;
  }
  model::ModelOptions model_options{.num_threads = a.threads, .enable_mtp = *num_speculative_tokens > 0};
  session.Configure(&model_options);
  // Followers ignore stop signals in effect (nobody waits on them): they end when their replica's leader
  // sends stop.
  if (!session.is_replica_leader())
    return RunServeFollower(a.model_dir, WeightLoadFor(a.no_mmap), model_options, session);

  // From here on only the replica leaders run (rank 0 alone with DP = 1), each with its own HTTP server on
  // --port + its replica index; until the followers have the KV-cache geometry, an error must release
  // them as well.
  auto fail = [&](const std::string& message, int code) {
    PrintError(message);
    if (Status s = ShareKvGeometry(session, std::nullopt); !s.ok()) parallel::AbortJob(s);
    return code;
  };
  auto ckpt = model::Checkpoint::Open(a.model_dir, WeightLoadFor(a.no_mmap), model_options.enable_mtp);
  if (!ckpt.ok()) return fail(ckpt.status().message(), 1);
  if (a.no_mmap)
    spdlog::info("--no-mmap: {:.2f} GB of weights copied into memory", static_cast<double>((*ckpt)->ResidentBytes()) / 1e9);
  std::shared_ptr<const text::Tokenizer> tokenizer;
  if (auto t = text::Tokenizer::LoadFromDir(a.model_dir); t.ok()) {
    tokenizer = std::move(t).value();
  } else if (t.status().code() == StatusCode::kNotFound) {
    spdlog::warn("{}; serving token-id prompts only", t.status().message());
  } else {
    return fail(t.status().message(), 1);
  }
  const model::ModelConfig config = (*ckpt)->config();
  auto model = model::Model::Load(std::move(ckpt).value(), model_options);
  if (!model.ok()) return fail(model.status().message(), 1);
  std::shared_ptr<model::Model> served_model = std::move(model).value();
  std::shared_ptr<engine::LockStepModel> lock_step;
  if (session.control() != nullptr) {
    lock_step = std::make_shared<engine::LockStepModel>(std::move(served_model), *session.control());
    served_model = lock_step;
  }
  // The port is bound before the engine starts: with DP > 1 its step thread joins the other replicas'
  // steps at once (after Open below), so no start-up error may come after it.
  server::ServerMetrics metrics(a.served_model_names.empty() ? a.model_dir : a.served_model_names.front());
  server::ServerState state;
  state.limits.served_model_names = a.served_model_names.empty() ? std::vector<std::string>{a.model_dir} : a.served_model_names;
  state.limits.tokenizer = tokenizer.get();
  state.limits.vocab_size = config.vocab_size;
  state.limits.bos_token_id = static_cast<int32_t>(config.bos_token_id);
  state.limits.eos_token_id = static_cast<int32_t>(config.eos_token_id);
  state.chat = *chat;
  state.metrics = &metrics;
  state.api_key = a.api_key;
  const int http_threads = a.http_threads > 0 ? a.http_threads : static_cast<int>(std::max<int64_t>(64, a.engine.max_num_seqs) + 16);
  server::HttpServer http(state, http_threads, a.max_request_body_bytes);
  // Replica d listens on --port + d (with --port 0, each on a free port of its own).
  auto port = http.Bind(a.host, a.port == 0 ? 0 : a.port + layout.dp_rank);
  if (!port.ok()) return fail(port.status().message(), 1);
  std::unique_ptr<engine::ReplicaSync> replicas;
  if (session.replica_leaders() != nullptr) {
    // Another replica stopping (SIGTERM to one process) drains this one as a stop signal would.
    replicas = std::make_unique<engine::ReplicaSync>(*session.replica_leaders(), [] { StopSignals::Wake(); });
  }
  auto engine = engine::Engine::Create(served_model, tokenizer, a.engine, replicas.get());
  if (!engine.ok()) return fail(engine.status().message(), 2);
  state.engine = engine->get();
  state.limits.max_model_len = (*engine)->max_model_len();
  const engine::EngineStats stats = (*engine)->Stats();
  const KvGeometry geometry{.num_blocks = stats.kv_blocks_total,
                            .block_size = stats.kv_token_capacity / stats.kv_blocks_total,
                            .dtype = *model::ParseKvCacheDtype(a.engine.kv_cache_dtype)};
  if (Status s = ShareKvGeometry(session, geometry, served_model.get()); !s.ok()) parallel::AbortJob(s);
  // The followers have their caches: the step thread may now send them commands.
  if (replicas) replicas->Open();
  spdlog::info("sieve serve: model {} ({}, {} layers, {} weights) served as '{}'; chat format {}", a.model_dir,
               config.model_type, config.num_hidden_layers, config.is_fp8() ? "fp8" : "bf16", state.model_name(),
               text::ChatFamilyName(chat->family));
  spdlog::info("parallel layout: {} process(es), CPU, {} model threads each, {}; {} HTTP threads on each replica's "
               "first rank",
               layout.world_size, a.threads > 0 ? a.threads : static_cast<int>(std::thread::hardware_concurrency()),
               layout.Describe(), http_threads);
  spdlog::info("KV cache: {} blocks, {} tokens; max_model_len {}; max_num_seqs {}", stats.kv_blocks_total,
               stats.kv_token_capacity, state.limits.max_model_len, a.engine.max_num_seqs);
  spdlog::info("listening on http://{}:{}{}{}", a.host, *port, a.api_key.empty() ? "" : " (API key required on /v1)",
               layout.dp_size > 1 ? fmt::format(" (data-parallel replica {} of {})", layout.dp_rank, layout.dp_size) : "");

  std::thread stopper([&] { WaitForStopSignal(state, http, **engine); });
  const Status served = http.Run();
  if (!state.draining.exchange(true)) StopSignals::Wake();
  stopper.join();
  // With DP > 1 this returns once every replica is stopping (its step loop joins theirs until then).
  (*engine)->Shutdown();
  // The step thread is gone, so no model call can follow the stop.
  if (lock_step) {
    if (Status s = lock_step->StopFollowers(); !s.ok()) parallel::AbortJob(s);
  }
  if (!served.ok()) {
    PrintError(served.message());
    return 1;
  }
  spdlog::info("sieve serve: stopped");
  return 0;
}

void RegisterServe(CLI::App& app, int* exit_code) {
  auto* cmd = app.add_subcommand("serve", "OpenAI-compatible HTTP server (vLLM-compatible flags and endpoints)");
  auto a = std::make_shared<ServeArgs>();
  // vLLM takes the folder as a positional; SGLang's launch_server as --model-path.
  auto* positional = cmd->add_option("model", a->model_dir, "Checkpoint folder (config.json, safetensors, tokenizer.json)");
  auto* model_path = cmd->add_option("--model-path,--model", a->model_dir, "Same as the positional MODEL (SGLang's name)");
  positional->excludes(model_path);
  cmd->add_option("--host", a->host, "Address to bind")->capture_default_str();
  cmd->add_option("--port", a->port, "Port to bind (0: any free port)")->capture_default_str()->check(CLI::Range(0, 65535));
  cmd->add_option("--served-model-name", a->served_model_names,
                  "Model name(s) clients send in 'model' (default: the model path); the first is reported")
      ->expected(1, -1);
  cmd->add_option("--api-key", a->api_key, "Require 'Authorization: Bearer KEY' on every endpoint but /health");
  cmd->add_option("--tokenizer-mode", a->tokenizer_mode, "auto or deepseek_v32 (chat encoding)")->capture_default_str();
  cmd->add_option("--tool-call-parser", a->tool_call_parser, "deepseekv32 (DSML) or deepseekv31");
  cmd->add_option("--reasoning-parser", a->reasoning_parser, "deepseek-v3: split <think> text into reasoning_content");
  cmd->add_flag("--enable-auto-tool-choice", a->enable_auto_tool_choice, "Allow tool_choice \"auto\"");
  cmd->add_option("--log-level,--uvicorn-log-level", a->log_level, "trace, debug, info, warning, error, critical")
      ->capture_default_str();
  cmd->add_option("--threads", a->threads, "Model threads (0: all cores)")->capture_default_str();
  AddNoMmapFlag(*cmd, &a->no_mmap);
  cmd->add_option("--http-threads", a->http_threads, "HTTP worker threads (0: max(64, max-num-seqs) + 16)")
      ->capture_default_str();
  // Neither vLLM nor SGLang has this flag (uvicorn reads any size), so the name says exactly what it bounds.
  cmd->add_option("--max-request-body-bytes", a->max_request_body_bytes,
                  "Largest request body accepted; longer ones get 413")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  engine::AddEngineFlags(*cmd, &a->engine);
  parallel::AddParallelFlags(*cmd, &a->parallel);
  // SGLang's names for the same engine settings.
  cmd->add_option("--context-length", a->engine.max_model_len, "Same as --max-model-len (SGLang's name)");
  cmd->add_option("--max-running-requests", a->engine.max_num_seqs, "Same as --max-num-seqs (SGLang's name)");
  cmd->callback([a, exit_code] {
    if (a->model_dir.empty()) {
      PrintError("serve: give the checkpoint folder (MODEL or --model-path)");
      *exit_code = 2;
      return;
    }
    *exit_code = RunServe(*a);
  });
}

}  // namespace

SIEVE_SUBCOMMAND(RegisterServe);

}  // namespace sieve::cli
