#include "server/http_server.h"

#include <fmt/format.h>
#include <httplib.h>

#include <chrono>
#include <string_view>
#include <thread>

#include "server/request_log.h"
#include "server/routes.h"

namespace sieve::server {

HttpServer::HttpServer(ServerState& state, int num_threads, int64_t max_request_body_bytes)
    : state_(state), http_(std::make_unique<httplib::Server>()) {
  http_->new_task_queue = [num_threads] { return new httplib::ThreadPool(static_cast<size_t>(num_threads)); };
  // cpp-httplib answers 413 while reading, before buffering more than this.
  http_->set_payload_max_length(static_cast<size_t>(max_request_body_bytes));
  http_->set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    BeginRequestRecord();
    return Authorize(state_, req, res) ? httplib::Server::HandlerResponse::Unhandled
                                       : httplib::Server::HandlerResponse::Handled;
  });
  // Unknown routes and httplib's own failures get an OpenAI-shaped body; our errors already have one.
  http_->set_error_handler(httplib::Server::HandlerWithResponse([](const httplib::Request& req, httplib::Response& res) {
    FillErrorBody(req, res);
    return httplib::Server::HandlerResponse::Handled;
  }));
  http_->set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
    AnswerException(ep, res);
  });
  http_->set_logger([](const httplib::Request& req, const httplib::Response& res) { LogRequest(req.method, req.path, res.status); });
  for (const Route& route : Routes()) {
    auto handler = [this, h = route.handler](const httplib::Request& req, httplib::Response& res) { h(state_, req, res); };
    if (std::string_view(route.method) == "GET") http_->Get(route.path, handler);
    else http_->Post(route.path, handler);
  }
}

HttpServer::~HttpServer() = default;

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
