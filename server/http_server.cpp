// cpp-httplib wiring of the OpenAI routes.
#include "server/http_server.h"

#include <fmt/format.h>

#include <thread>

#include "core/logging.h"
#include "server/api_key.h"
#include "server/chat_route.h"
#include "server/completions_route.h"
#include "server/http_reply.h"
#include "server/info_routes.h"
#include "server/request_log.h"

namespace sieve::server {

namespace {

using Handler = std::function<void(const httplib::Request&, httplib::Response&, RequestLog&)>;

RequestLog StartLog(const httplib::Request& req) {
  RequestLog log;
  log.method = req.method;
  log.path = req.path;
  log.arrival = std::chrono::steady_clock::now();
  return log;
}

// Runs a route with its request log; streams log themselves when they end.
httplib::Server::Handler Logged(Handler handler) {
  return [handler = std::move(handler)](const httplib::Request& req, httplib::Response& res) {
    RequestLog log = StartLog(req);
    handler(req, res, log);
    if (!log.deferred) LogRequest(log, res.status);
  };
}

bool IsGenerationRoute(const std::string& path) {
  return path == "/v1/completions" || path == "/v1/chat/completions";
}

}  // namespace

HttpServer::HttpServer(ServerState& state, HttpServerOptions options) : state_(state), options_(std::move(options)) {
  const int threads = options_.num_threads;
  server_.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  server_.set_payload_max_length(options_.max_request_body_bytes);
  RegisterRoutes();
}

void HttpServer::RegisterRoutes() {
  server_.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    if (!options_.api_key.empty() && req.path != "/health" &&
        !AuthorizationMatches(req.get_header_value("Authorization"), options_.api_key)) {
      ReplyError(res, Status::Unauthenticated("Unauthorized: missing or wrong API key (send 'Authorization: Bearer <key>')"));
      LogRequest(StartLog(req), res.status);
      return httplib::Server::HandlerResponse::Handled;
    }
    if (draining_ && (IsGenerationRoute(req.path) || req.path == "/health")) {
      ReplyError(res, Status::Unavailable("the server is shutting down"));
      return httplib::Server::HandlerResponse::Handled;
    }
    return httplib::Server::HandlerResponse::Unhandled;
  });
  // httplib's own errors (no route, body over the limit) get an OpenAI-shaped body; replies the routes
  // already wrote keep theirs.
  server_.set_error_handler(httplib::Server::HandlerWithResponse([](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
    if (res.status == 413) {
      ReplyError(res, Status::ResourceExhausted("the request body is larger than --max-request-body-bytes"));
    } else if (res.status == 404) {
      ReplyError(res, Status::NotFound(fmt::format("no route for {} {}", req.method, req.path)));
    } else {
      const int status = res.status;
      ReplyError(res, Status::InvalidArgument(fmt::format("HTTP error {}", status)));
      res.status = status;
    }
    LogRequest(StartLog(req), res.status);
    return httplib::Server::HandlerResponse::Handled;
  }));

  ServerState& state = state_;
  const ServingContext& context = state_.context;
  server_.Get("/health", [](const httplib::Request&, httplib::Response& res) { res.status = 200; });
  server_.Get("/version", Logged([](const auto&, auto& res, RequestLog&) { HandleVersion(res); }));
  server_.Get("/v1/models", Logged([&context](const auto&, auto& res, RequestLog&) { HandleModels(res, context); }));
  server_.Get("/tokenizer_info",
              Logged([&context](const auto&, auto& res, RequestLog&) { HandleTokenizerInfo(res, context); }));
  server_.Post("/tokenize",
               Logged([&context](const auto& req, auto& res, RequestLog&) { HandleTokenize(req, res, context); }));
  server_.Post("/detokenize",
               Logged([&context](const auto& req, auto& res, RequestLog&) { HandleDetokenize(req, res, context); }));
  server_.Get("/metrics", [&state](const httplib::Request&, httplib::Response& res) { HandleMetrics(res, state); });
  server_.Post("/v1/completions", Logged([&state](const auto& req, auto& res, RequestLog& log) {
                 HandleCompletions(req, res, state, log);
               }));
  server_.Post("/v1/chat/completions", Logged([&state](const auto& req, auto& res, RequestLog& log) {
                 HandleChatCompletions(req, res, state, log);
               }));
}

Status HttpServer::Bind() {
  if (options_.port == 0) {
    port_ = server_.bind_to_any_port(options_.host.c_str());
    if (port_ > 0) return Status::Ok();
  } else if (server_.bind_to_port(options_.host.c_str(), options_.port)) {
    port_ = options_.port;
    return Status::Ok();
  }
  return Status::Unavailable(fmt::format("cannot listen on {}:{} (address in use or not available)", options_.host, options_.port));
}

Status HttpServer::Serve() {
  if (!server_.listen_after_bind()) return Status::Internal("the HTTP server stopped with an error");
  return Status::Ok();
}

void HttpServer::Shutdown(std::chrono::milliseconds drain_timeout) {
  if (draining_.exchange(true)) return;
  spdlog::info("shutting down: waiting up to {} ms for {} in-flight requests", drain_timeout.count(),
               state_.generations_in_flight.load());
  auto wait_for_idle = [this](std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (state_.generations_in_flight > 0 && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    return state_.generations_in_flight == 0;
  };
  if (!wait_for_idle(drain_timeout)) {
    spdlog::warn("aborting {} requests still in flight", state_.generations_in_flight.load());
    state_.engine.Shutdown();  // running requests end with finish_reason "abort"; their streams close
    wait_for_idle(std::chrono::seconds(5));
  }
  server_.stop();
}

}  // namespace sieve::server
