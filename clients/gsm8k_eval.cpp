// Runs lm-eval's gsm8k task against a server; see gsm8k_eval.h.
#include "clients/gsm8k_eval.h"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <mutex>
#include <thread>

#include "clients/gsm8k_prompt.h"
#include "clients/gsm8k_scoring.h"
#include "clients/http_connection.h"

namespace sieve::clients {
namespace {

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// tenacity wait_exponential(multiplier=0.5, min=1, max=10) before attempt k+1: clamp(0.5 * 2^(k-1), 1, 10) s.
std::chrono::milliseconds RetryDelay(int failed_attempts) {
  const double s = std::clamp(0.5 * std::pow(2.0, failed_attempts - 1), 1.0, 10.0);
  return std::chrono::milliseconds(static_cast<int64_t>(s * 1000));
}

// lm-eval's tokenizer probe (utils.check_remote_tokenizer_support): /tokenizer_info must give "eos_token"
// and /tokenize must work; then the EOS string joins `stop` on the single-connection path.
std::optional<std::string> ProbeEosToken(HttpConnection& conn, const std::string& server_prefix) {
  auto info = conn.Get(server_prefix + "/tokenizer_info");
  if (!info.ok() || info->status / 100 != 2) return std::nullopt;
  const auto j = nlohmann::json::parse(info->body, nullptr, false);
  if (!j.is_object() || !j.contains("eos_token") || !j["eos_token"].is_string()) return std::nullopt;
  auto tok = conn.PostJson(server_prefix + "/tokenize", R"({"prompt": "test", "add_special_tokens": false})");
  if (!tok.ok() || tok->status / 100 != 2) return std::nullopt;
  const auto t = nlohmann::json::parse(tok->body, nullptr, false);
  if (!t.is_object() || !t.contains("tokens") || !t["tokens"].is_array()) return std::nullopt;
  return j["eos_token"].get<std::string>();
}

// One request with lm-eval's retry policy: any transport error, non-2xx status or unparsable body retries.
StatusOr<std::string> Generate(HttpConnection& conn, const std::string& path, const std::string& body,
                               bool chat, int max_attempts) {
  Status last;
  for (int attempt = 1; attempt <= max_attempts; ++attempt) {
    if (attempt > 1) std::this_thread::sleep_for(RetryDelay(attempt - 1));
    auto reply = conn.PostJson(path, body);
    if (!reply.ok()) {
      last = reply.status();
      continue;
    }
    if (reply->status / 100 != 2) {
      last = Status::Unavailable(fmt::format("HTTP {}: {}", reply->status, reply->body.substr(0, 200)));
      continue;
    }
    auto text = ParseGeneratedText(reply->body, chat);
    if (text.ok()) return text;
    last = text.status();
  }
  return last;
}

}  // namespace

StatusOr<std::string> Gsm8kEndpointUrl(const std::string& base_url, bool chat) {
  SIEVE_ASSIGN_OR_RETURN(BaseUrl base, ParseBaseUrl(base_url));
  if (EndsWith(base.path_prefix, "/completions")) return base.origin + base.path_prefix;
  const std::string v1 = EndsWith(base.path_prefix, "/v1") ? base.path_prefix : base.path_prefix + "/v1";
  return base.origin + v1 + (chat ? "/chat/completions" : "/completions");
}

Gsm8kDocResult ScoreGsm8kCompletion(std::string completion, const std::string& gold) {
  Gsm8kDocResult r;
  r.strict_answer = StrictMatch(completion);
  r.flexible_answer = FlexibleExtract(completion);
  r.strict_score = ExactMatch(r.strict_answer, gold);
  r.flexible_score = ExactMatch(r.flexible_answer, gold);
  r.completion = std::move(completion);
  return r;
}

StatusOr<Gsm8kEvalResult> RunGsm8kEval(const Gsm8kEvalOptions& options, const std::vector<Gsm8kDoc>& test,
                                       const std::vector<Gsm8kDoc>& train,
                                       const std::function<void(size_t, size_t)>& on_done) {
  if (options.num_fewshot > train.size()) {
    return Status::InvalidArgument(fmt::format("--num-fewshot {} exceeds the {} train docs", options.num_fewshot, train.size()));
  }
  if (options.num_concurrent < 1) return Status::InvalidArgument("--num-concurrent must be at least 1");
  Gsm8kEvalResult result;
  SIEVE_ASSIGN_OR_RETURN(result.endpoint_url, Gsm8kEndpointUrl(options.base_url, options.chat));
  SIEVE_ASSIGN_OR_RETURN(BaseUrl endpoint, ParseBaseUrl(result.endpoint_url));

  const size_t n = std::min(test.size(), options.limit.value_or(test.size()));
  const auto shots = DrawFewshotIndices(train.size(), n, options.num_fewshot);
  // An unreachable server fails once here instead of once per doc after every retry.
  {
    SIEVE_ASSIGN_OR_RETURN(auto conn, HttpConnection::Open(endpoint.origin, 5.0));
    auto reply = conn->Get(endpoint.path_prefix);
    if (!reply.ok()) return Status::Unavailable(fmt::format("{}: {}", result.endpoint_url, reply.status().message()));
  }
  Gsm8kGeneration gen = options.generation;
  if (!options.chat && options.num_concurrent <= 1) {
    SIEVE_ASSIGN_OR_RETURN(auto probe, HttpConnection::Open(endpoint.origin, 5.0));
    // lm-eval strips "/v1/completions" from base_url to find the server's own routes.
    const size_t v1 = endpoint.path_prefix.rfind("/v1/");
    const std::string server_prefix = v1 == std::string::npos ? "" : endpoint.path_prefix.substr(0, v1);
    if (auto eos = ProbeEosToken(*probe, server_prefix); eos && std::find(gen.stop.begin(), gen.stop.end(), *eos) == gen.stop.end()) {
      gen.stop.push_back(*eos);
    }
  }

  result.docs.resize(n);
  std::atomic<size_t> next{0}, finished{0};
  std::mutex progress_mutex;
  std::vector<Status> worker_status(static_cast<size_t>(options.num_concurrent));
  auto worker = [&](size_t w) {
    auto conn = HttpConnection::Open(endpoint.origin, options.timeout_s);
    if (!conn.ok()) {
      worker_status[w] = conn.status();
      return;
    }
    for (size_t i = next++; i < n; i = next++) {
      const std::string body =
          options.chat ? ChatBody(MultiturnMessages(test[i], shots[i], train), gen).dump()
                       : CompletionsBody(CompletionPrompt(test[i], shots[i], train), gen).dump();
      auto text = Generate(**conn, endpoint.path_prefix, body, options.chat, options.max_attempts);
      // A failed request scores as lm-eval's empty placeholder answer; it is counted and reported.
      result.docs[i] = ScoreGsm8kCompletion(text.ok() ? *text : std::string(), test[i].answer);
      if (!text.ok()) result.docs[i].error = text.status().message();
      const size_t done = ++finished;
      if (on_done) {
        std::lock_guard<std::mutex> lock(progress_mutex);
        on_done(done, n);
      }
    }
  };
  std::vector<std::thread> threads;
  for (int w = 0; w < options.num_concurrent; ++w) threads.emplace_back(worker, static_cast<size_t>(w));
  for (auto& t : threads) t.join();
  for (const Status& s : worker_status) SIEVE_RETURN_IF_ERROR(s);

  std::vector<double> strict, flexible;
  for (const Gsm8kDocResult& d : result.docs) {
    strict.push_back(d.strict_score);
    flexible.push_back(d.flexible_score);
    result.failed_requests += !d.error.empty();
  }
  result.scores = {MeanWithStderr("flexible-extract", "exact_match", flexible),
                   MeanWithStderr("strict-match", "exact_match", strict)};
  return result;
}

}  // namespace sieve::clients
