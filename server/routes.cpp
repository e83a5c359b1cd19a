#include "server/routes.h"

#include <fmt/format.h>
#include <httplib.h>

#include <chrono>
#include <exception>

#include "server/api_key.h"
#include "server/chat_route.h"
#include "server/completions_route.h"
#include "server/http_reply.h"
#include "server/tokenizer_routes.h"

namespace sieve::server {

namespace {

using Json = nlohmann::ordered_json;

void HandleModels(ServerState& state, const httplib::Request&, httplib::Response& res) {
  static const int64_t created =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  Json data = Json::array();
  for (const std::string& name : state.limits.served_model_names)
    data.push_back({{"id", name},
                    {"object", "model"},
                    {"created", created},
                    {"owned_by", "sieve"},
                    {"root", state.limits.served_model_names.front()},
                    {"parent", nullptr},
                    {"max_model_len", state.limits.max_model_len}});
  SendJson(res, {{"object", "list"}, {"data", std::move(data)}});
}

void HandleHealth(ServerState& state, const httplib::Request&, httplib::Response& res) {
  if (state.draining) return SendError(res, Status::Unavailable("the server is shutting down"));
  res.status = 200;
}

void HandleVersion(ServerState&, const httplib::Request&, httplib::Response& res) {
  SendJson(res, {{"version", SIEVE_VERSION}});
}

void HandleMetrics(ServerState& state, const httplib::Request&, httplib::Response& res) {
  res.set_content(state.metrics->Render(state.engine->Stats()), "text/plain; version=0.0.4; charset=utf-8");
}

constexpr Route kRoutes[] = {
    {"GET", "/health", HandleHealth},
    {"GET", "/version", HandleVersion},
    {"GET", "/metrics", HandleMetrics},
    {"GET", "/v1/models", HandleModels},
    {"POST", "/v1/completions", HandleCompletions},
    {"POST", "/v1/chat/completions", HandleChatCompletions},
    {"POST", "/tokenize", HandleTokenize},
    {"POST", "/detokenize", HandleDetokenize},
    {"GET", "/tokenizer_info", HandleTokenizerInfo},
};

const Route* FindRoute(const std::string& method, const std::string& path) {
  const std::string& as = method == "HEAD" ? std::string("GET") : method;
  for (const Route& r : kRoutes)
    if (as == r.method && path == r.path) return &r;
  return nullptr;
}

}  // namespace

std::span<const Route> Routes() { return kRoutes; }

bool Authorize(const ServerState& state, const httplib::Request& req, httplib::Response& res) {
  // Every endpoint but /health (probes stay keyless), not only /v1: /tokenize, /metrics and /tokenizer_info
  // also reveal what the server holds (issue 12, security).
  if (state.api_key.empty() || req.path == "/health") return true;
  if (AuthorizationMatches(req.get_header_value("Authorization"), state.api_key)) return true;
  SendError(res, Status::Unauthenticated("Unauthorized: a valid 'Authorization: Bearer <api key>' header is required"));
  return false;
}

void FillErrorBody(const httplib::Request& req, httplib::Response& res) {
  if (!res.body.empty()) return;
  const int code = res.status;
  const Status s = code == 404 ? Status::NotFound(fmt::format("no route {} {}", req.method, req.path))
                               : Status(StatusCode::kInvalidArgument, fmt::format("HTTP {}", code));
  SendError(res, s);
  res.status = code;
}

void AnswerException(std::exception_ptr error, httplib::Response& res) {
  std::string what = "unknown exception";
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    what = e.what();
  } catch (...) {
  }
  SendError(res, Status::Internal(what));
}

void Dispatch(ServerState& state, const httplib::Request& req, httplib::Response& res) {
  if (!Authorize(state, req, res)) return;
  const Route* route = FindRoute(req.method, req.path);
  if (route == nullptr) {
    res.status = 404;
    return FillErrorBody(req, res);
  }
  try {
    route->handler(state, req, res);
  } catch (...) {
    AnswerException(std::current_exception(), res);
  }
  if (res.status == -1) res.status = 200;  // cpp-httplib's default for a routed request
  if (res.status >= 400) FillErrorBody(req, res);
}

}  // namespace sieve::server
