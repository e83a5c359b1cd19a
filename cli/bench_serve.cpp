// `sieve bench serve`: vLLM's `vllm bench serve` against any OpenAI-compatible server, with its flag names,
// defaults, random dataset, arrival process, printed table and --save-result JSON (bench-serve.md).
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <random>
#include <sstream>

#include "cli/subcommands.h"
#include "clients/http_connection.h"
#include "clients/prompt_tokenizer.h"
#include "clients/random_dataset.h"
#include "clients/serve_benchmark.h"
#include "clients/serve_report.h"

namespace sieve::cli {
namespace {

struct BenchServeFlags {
  std::string base_url, host = "127.0.0.1", endpoint = "/v1/completions", model;
  int port = 8000;
  std::string tokenizer = std::string(SIEVE_ASSETS_DIR) + "/tokenizer";
  std::string dataset_name = "random";
  clients::RandomDatasetOptions dataset;
  std::string request_rate = "inf";
  double burstiness = 1.0;
  int max_concurrency = 0;  // 0 = none
  int num_warmups = 0;
  bool ignore_eos = false;
  std::string percentile_metrics = "ttft,tpot,itl";
  std::string metric_percentiles = "99";
  bool save_result = false, save_detailed = false, disable_tqdm = false;
  std::string result_dir, result_filename, label;
  double timeout_s = 6 * 3600;
};

std::vector<std::string> SplitCommas(const std::string& s) {
  std::vector<std::string> parts;
  std::stringstream in(s);
  for (std::string part; std::getline(in, part, ',');) parts.push_back(part);
  return parts;
}

// A usage problem in flag values: one line, exit code 2.
struct UsageError {
  std::string message;
};

double ParseRate(const std::string& text) {
  if (text == "inf") return INFINITY;
  char* end = nullptr;
  const double rate = std::strtod(text.c_str(), &end);
  if (text.empty() || *end != '\0' || !(rate > 0))
    throw UsageError{"--request-rate must be a positive number or inf, got '" + text + "'"};
  return rate;
}

std::vector<double> ParsePercentiles(const std::string& text) {
  std::vector<double> ps;
  for (const std::string& part : SplitCommas(text)) {
    char* end = nullptr;
    const double p = std::strtod(part.c_str(), &end);
    if (part.empty() || *end != '\0' || !(p >= 0 && p <= 100)) {
      throw UsageError{"--metric-percentiles takes numbers in [0, 100], got '" + part + "'"};
    }
    ps.push_back(p);
  }
  return ps;
}

std::vector<std::string> ParseMetrics(const std::string& text) {
  std::vector<std::string> metrics = SplitCommas(text);
  for (const std::string& m : metrics) {
    if (m != "ttft" && m != "tpot" && m != "itl" && m != "e2el") {
      throw UsageError{"--percentile-metrics takes ttft, tpot, itl, e2el, got '" + m + "'"};
    }
  }
  return metrics;
}

// vLLM without --model: the first entry of GET /v1/models.
StatusOr<std::string> FirstServedModel(const clients::BaseUrl& base) {
  SIEVE_ASSIGN_OR_RETURN(auto conn, clients::HttpConnection::Open(base.origin, 10));
  SIEVE_ASSIGN_OR_RETURN(clients::HttpReply reply, conn->Get(base.path_prefix + "/v1/models"));
  const auto j = nlohmann::json::parse(reply.body, nullptr, false);
  if (reply.status != 200 || !j.contains("data") || !j["data"].is_array() || j["data"].empty() ||
      !j["data"][0].contains("id") || !j["data"][0]["id"].is_string()) {
    return Status::Unavailable(fmt::format("GET {}{}/v1/models gave HTTP {}: no model id; pass --model", base.origin,
                                           base.path_prefix, reply.status));
  }
  return j["data"][0]["id"].get<std::string>();
}

// A tqdm-like line on stderr, only when stderr is a terminal.
clients::ProgressFn ProgressBar(bool enabled) {
  if (!enabled || ::isatty(STDERR_FILENO) == 0) return nullptr;
  const auto start = std::chrono::steady_clock::now();
  return [start](size_t done, size_t total) {
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const size_t filled = total == 0 ? 0 : done * 30 / total;
    std::fprintf(stderr, "\r%3zu%%|%s%s| %zu/%zu [%.0fs, %.2fit/s]", total == 0 ? 0 : done * 100 / total,
                 std::string(filled, '#').c_str(), std::string(30 - filled, ' ').c_str(), done, total, elapsed,
                 elapsed > 0 ? static_cast<double>(done) / elapsed : 0.0);
    if (done == total) std::fprintf(stderr, "\n");
  };
}

std::string Now(const char* format) {
  const std::time_t t = std::time(nullptr);
  std::tm local{};
  localtime_r(&t, &local);
  char buf[64];
  std::strftime(buf, sizeof buf, format, &local);
  return buf;
}

// Without usage.completion_tokens vLLM re-tokenizes the generated text.
void CountMissingOutputTokens(std::vector<clients::RequestOutput>& outputs, const clients::PromptTokenizer& tok) {
  for (auto& o : outputs) {
    if (o.success && o.output_tokens == 0) o.output_tokens = static_cast<int>(tok.Encode(o.generated_text).size());
  }
}

Status SaveResult(const BenchServeFlags& f, const clients::ServeReport& report, const clients::ServeBenchmarkRun& run,
                  const std::string& model_id, const std::string& backend, size_t num_prompts) {
  const std::string date = Now("%Y%m%d-%H%M%S");
  nlohmann::ordered_json j;
  j["date"] = date;
  j["endpoint_type"] = backend;
  j["backend"] = backend;
  j["label"] = f.label.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(f.label);
  j["model_id"] = model_id;
  j["tokenizer_id"] = f.tokenizer;
  j["num_prompts"] = num_prompts;
  j["request_rate"] =
      std::isinf(report.request_rate) ? nlohmann::ordered_json("inf") : nlohmann::ordered_json(report.request_rate);
  j["burstiness"] = report.burstiness;
  j["max_concurrency"] =
      report.max_concurrency ? nlohmann::ordered_json(*report.max_concurrency) : nlohmann::ordered_json(nullptr);
  j.update(clients::ServeResultJson(report, run.outputs, f.save_detailed));
  const std::string name = f.result_filename.empty()
                               ? clients::ServeResultFileName(f.label.empty() ? backend : f.label, report.request_rate,
                                                              report.max_concurrency, model_id, date)
                               : f.result_filename;
  std::filesystem::path path =
      f.result_dir.empty() ? std::filesystem::path(name) : std::filesystem::path(f.result_dir) / name;
  std::error_code ec;
  if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path(), ec);
  std::ofstream out(path);
  out << j.dump();
  if (!out.good()) return Status::Internal(fmt::format("cannot write {}", path.string()));
  return Status::Ok();
}

int RunBenchServe(const BenchServeFlags& f) {
  clients::ServeReport report;
  try {
    report.request_rate = ParseRate(f.request_rate);
    report.percentiles = ParsePercentiles(f.metric_percentiles);
    report.percentile_metrics = ParseMetrics(f.percentile_metrics);
    if (f.dataset_name != "random") throw UsageError{"--dataset-name: only 'random' is supported"};
    if (!(f.burstiness > 0)) throw UsageError{"--burstiness must be positive"};
  } catch (const UsageError& e) {
    PrintError(e.message);
    return 2;
  }
  report.burstiness = f.burstiness;
  if (f.max_concurrency > 0) report.max_concurrency = f.max_concurrency;

  auto base = clients::ParseBaseUrl(f.base_url.empty() ? fmt::format("http://{}:{}", f.host, f.port) : f.base_url);
  if (!base.ok()) {
    PrintError(base.status().message());
    return 2;
  }
  std::string model = f.model;
  if (model.empty()) {
    auto served = FirstServedModel(*base);
    if (!served.ok()) {
      PrintError(served.status().message());
      return 1;
    }
    model = *served;
  }
  auto tokenizer = clients::LoadPromptTokenizer(f.tokenizer);
  if (!tokenizer.ok()) {
    PrintError(tokenizer.status().message());
    return 1;
  }
  auto dataset = clients::SampleRandomDataset(**tokenizer, f.dataset);
  if (!dataset.ok()) {
    PrintError(dataset.status().message());
    return 2;
  }
  if (dataset->length_mismatches > 0) {
    std::fprintf(stderr, "warning: %zu prompts did not re-encode to their target length\n", dataset->length_mismatches);
  }

  clients::ServeBenchmarkOptions options;
  options.origin = base->origin;
  options.api_path = base->path_prefix + f.endpoint;
  options.metrics_path = base->path_prefix + "/metrics";
  options.model = model;
  options.chat = f.endpoint.find("chat/completions") != std::string::npos;
  // vLLM forces ignore_eos for the random dataset on OpenAI-compatible backends, so --ignore-eos is implied.
  options.ignore_eos = true;
  options.request_rate = report.request_rate;
  options.burstiness = f.burstiness;
  options.max_concurrency = report.max_concurrency;
  options.num_warmups = f.num_warmups;
  options.seed = f.dataset.seed;
  options.timeout_s = f.timeout_s;
  options.request_id_prefix = fmt::format("bench-{:08x}-", std::random_device{}());
  const std::string backend = options.chat ? "openai-chat" : "openai";

  std::printf("Starting initial single prompt test run...\n");
  std::fflush(stdout);
  auto run = clients::RunServeBenchmark(options, dataset->requests, ProgressBar(!f.disable_tqdm));
  if (!run.ok()) {
    PrintError(run.status().message());
    return 1;
  }
  CountMissingOutputTokens(run->outputs, **tokenizer);
  report.metrics = clients::CalculateServeMetrics(run->outputs, run->duration_s, report.percentiles,
                                                  report.max_concurrency.has_value(), !std::isinf(report.request_rate));
  report.spec_decode = run->spec_decode;
  std::printf("%s%s", clients::FormatServePreamble(report).c_str(), clients::FormatServeTable(report).c_str());
  for (const auto& o : run->outputs) {
    if (!o.success) {
      PrintError(
          fmt::format("{} of {} requests failed; first: {}", report.metrics.failed, run->outputs.size(), o.error));
      break;
    }
  }
  if (f.save_result) {
    if (Status s = SaveResult(f, report, *run, model, backend, dataset->requests.size()); !s.ok()) {
      PrintError(s.message());
      return 1;
    }
  }
  return 0;
}

void RegisterBenchServe(CLI::App& app, int* exit_code) {
  CLI::App* bench = SubcommandGroup(app, "bench", "Benchmarks: serving (online) and engine (offline)");
  auto* cmd = bench->add_subcommand("serve", "vLLM's `bench serve` against an OpenAI-compatible server");
  auto flags = std::make_shared<BenchServeFlags>();
  auto& f = *flags;
  auto& d = f.dataset;
  cmd->add_option("--base-url", f.base_url, "Server URL (http://host:port[/prefix]); overrides --host/--port");
  cmd->add_option("--host", f.host, "Server host")->capture_default_str();
  cmd->add_option("--port", f.port, "Server port")->capture_default_str()->check(CLI::Range(1, 65535));
  cmd->add_option("--endpoint", f.endpoint, "/v1/completions or /v1/chat/completions")
      ->capture_default_str()
      ->check(CLI::IsMember({"/v1/completions", "/v1/chat/completions"}));
  cmd->add_option("--model", f.model, "Model name sent in each request (default: the server's first model)");
  cmd->add_option("--tokenizer", f.tokenizer, "Tokenizer folder (tokenizer.json) for the random prompts")
      ->capture_default_str();
  cmd->add_option("--dataset-name", f.dataset_name, "Dataset (random)")->capture_default_str();
  cmd->add_option("--num-prompts", d.num_prompts, "Requests to send")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--random-input-len,--input-len", d.input_len, "Input tokens per request")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--random-output-len,--output-len", d.output_len, "Output tokens per request (max_tokens)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--random-range-ratio", d.range_ratio, "Lengths uniform in [L(1-r), L(1+r)], r in [0, 1)")
      ->capture_default_str();
  cmd->add_option("--random-prefix-len", d.prefix_len, "Shared random prefix tokens before each prompt")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--request-rate", f.request_rate, "Requests/s (inf: all at once)")->capture_default_str();
  cmd->add_option("--burstiness", f.burstiness, "Gamma shape of the arrival gaps (1 = Poisson)")->capture_default_str();
  cmd->add_option("--max-concurrency", f.max_concurrency, "Requests in flight at most (default: no limit)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--num-warmups", f.num_warmups, "Unmeasured copies of the first request before the run")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd->add_flag("--ignore-eos", f.ignore_eos, "Send ignore_eos (always on for the random dataset, as in vLLM)");
  cmd->add_option("--seed", d.seed, "Seed of the lengths, prompts and arrivals")->capture_default_str();
  cmd->add_option("--percentile-metrics", f.percentile_metrics, "Comma list of ttft, tpot, itl, e2el")
      ->capture_default_str();
  cmd->add_option("--metric-percentiles", f.metric_percentiles, "Comma list of percentiles, e.g. 50,90,99")
      ->capture_default_str();
  cmd->add_flag("--save-result", f.save_result, "Write the result JSON");
  cmd->add_flag("--save-detailed", f.save_detailed,
                "Also save per-request lists (lengths, TTFTs, ITLs, texts, errors)");
  cmd->add_option("--result-dir", f.result_dir, "Folder for the result JSON (default: current folder)");
  cmd->add_option("--result-filename", f.result_filename, "File name instead of vLLM's generated one");
  cmd->add_option("--label", f.label, "Label in the JSON and its file name (default: the backend)");
  cmd->add_flag("--disable-tqdm", f.disable_tqdm, "No progress bar");
  cmd->add_option("--timeout", f.timeout_s, "Seconds to wait on a connection or a read before failing a request")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->callback([flags, exit_code] { *exit_code = RunBenchServe(*flags); });
}

}  // namespace

SIEVE_SUBCOMMAND(RegisterBenchServe);

}  // namespace sieve::cli
