#include "server/http_server.h"

#include <fmt/format.h>
#include <httplib.h>

#include <chrono>
#include <thread>

#include "server/api_key.h"
#include "server/chat_route.h"
#include "server/completions_route.h"
#include "server/http_reply.h"
#include "server/request_log.h"
#include "server/tokenizer_routes.h"
#include "text/tokenizer.h"

namespace sieve::server {

namespace {

using Json = nlohmann::ordered_json;
using Handler = void (*)(ServerState&, const httplib::Request&, httplib::Response&);

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

}  // namespace

HttpServer::HttpServer(ServerState& state, int num_threads) : state_(state), http_(std::make_unique<httplib::Server>()) {
  http_->new_task_queue = [num_threads] { return new httplib::ThreadPool(static_cast<size_t>(num_threads)); };
  http_->set_payload_max_length(size_t{64} << 20);
  http_->set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    BeginRequestRecord();
    // Every endpoint but /health (probes stay keyless), not only /v1: /tokenize, /metrics and /tokenizer_info
    // also reveal what the server holds (issue 12, security).
    if (state_.api_key.empty() || req.path == "/health") return httplib::Server::HandlerResponse::Unhandled;
    if (AuthorizationMatches(req.get_header_value("Authorization"), state_.api_key))
      return httplib::Server::HandlerResponse::Unhandled;
    SendError(res, Status::Unauthenticated("Unauthorized: a valid 'Authorization: Bearer <api key>' header is required"));
    return httplib::Server::HandlerResponse::Handled;
  });
  // Unknown routes and httplib's own failures get an OpenAI-shaped body; our errors already have one.
  http_->set_error_handler(httplib::Server::HandlerWithResponse([](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
    const Status s = res.status == 404 ? Status::NotFound(fmt::format("no route {} {}", req.method, req.path))
                                       : Status(StatusCode::kInvalidArgument, fmt::format("HTTP {}", res.status));
    const int code = res.status;
    SendError(res, s);
    res.status = code;
    return httplib::Server::HandlerResponse::Handled;
  }));
  http_->set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
    std::string what = "unknown exception";
    try {
      std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
    }
    SendError(res, Status::Internal(what));
  });
  http_->set_logger([](const httplib::Request& req, const httplib::Response& res) { LogRequest(req.method, req.path, res.status); });
  AddRoutes();
}

HttpServer::~HttpServer() = default;

void HttpServer::AddRoutes() {
  auto bind = [this](Handler h) {
    return [this, h](const httplib::Request& req, httplib::Response& res) { h(state_, req, res); };
  };
  http_->Get("/health", bind(HandleHealth));
  http_->Get("/version", bind(HandleVersion));
  http_->Get("/metrics", bind(HandleMetrics));
  http_->Get("/v1/models", bind(HandleModels));
  http_->Post("/v1/completions", bind(HandleCompletions));
  http_->Post("/v1/chat/completions", bind(HandleChatCompletions));
  http_->Post("/tokenize", bind(HandleTokenize));
  http_->Post("/detokenize", bind(HandleDetokenize));
  http_->Get("/tokenizer_info", bind(HandleTokenizerInfo));
}

StatusOr<int> HttpServer::Bind(const std::string& host, int port) {
  if (port == 0) {
    const int bound = http_->bind_to_any_port(host);
    if (bound < 0) return Status::Unavailable(fmt::format("cannot bind {} to any port", host));
    return bound;
  }
  if (!http_->bind_to_port(host, port)) return Status::Unavailable(fmt::format("cannot bind {}:{} (in use?)", host, port));
  return port;
}

Status HttpServer::Run() {
  running_ = true;
  const bool ok = stop_requested_ || http_->listen_after_bind();
  running_ = false;
  if (!ok) return Status::Internal("the HTTP server stopped with an error");
  return Status::Ok();
}

void HttpServer::Stop() {
  stop_requested_ = true;
  // Run() may be between its start and httplib's accept loop: wait for the loop, then stop it.
  while (running_ && !http_->is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  http_->stop();
}

}  // namespace sieve::server
