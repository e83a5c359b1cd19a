// cpp-httplib behind HttpConnection; see http_connection.h.
#include "clients/http_connection.h"

#include <fmt/format.h>
#include <httplib.h>

#include <cstdlib>

namespace sieve::clients {
namespace {

// Authorization as the OpenAI clients send it: only when OPENAI_API_KEY is set (vLLM's bench client).
httplib::Headers RequestHeaders(const std::string& request_id) {
  httplib::Headers headers;
  if (const char* key = std::getenv("OPENAI_API_KEY"); key != nullptr && *key != '\0') {
    headers.emplace("Authorization", std::string("Bearer ") + key);
  }
  if (!request_id.empty()) headers.emplace("x-request-id", request_id);
  return headers;
}

Status TransportError(httplib::Error error, const std::string& what) {
  const std::string message = fmt::format("{}: {}", what, httplib::to_string(error));
  if (error == httplib::Error::Read || error == httplib::Error::Write) return Status::DeadlineExceeded(message);
  return Status::Unavailable(message);
}

}  // namespace

StatusOr<BaseUrl> ParseBaseUrl(std::string_view url) {
  const size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos || (url.substr(0, scheme_end) != "http" && url.substr(0, scheme_end) != "https")) {
    return Status::InvalidArgument(fmt::format("base URL '{}': expected http://host:port[/path]", url));
  }
  const size_t path_begin = url.find('/', scheme_end + 3);
  BaseUrl base;
  base.origin = std::string(url.substr(0, path_begin));
  if (path_begin != std::string_view::npos) base.path_prefix = std::string(url.substr(path_begin));
  while (!base.path_prefix.empty() && base.path_prefix.back() == '/') base.path_prefix.pop_back();
  if (base.origin.size() == scheme_end + 3) return Status::InvalidArgument(fmt::format("base URL '{}': no host", url));
  return base;
}

HttpConnection::HttpConnection(std::unique_ptr<httplib::Client> client) : client_(std::move(client)) {}
HttpConnection::~HttpConnection() = default;

StatusOr<std::unique_ptr<HttpConnection>> HttpConnection::Open(const std::string& origin, double timeout_s) {
  auto client = std::make_unique<httplib::Client>(origin);
  if (!client->is_valid()) return Status::InvalidArgument(fmt::format("cannot use server address '{}'", origin));
  const auto timeout = std::chrono::microseconds(static_cast<int64_t>(timeout_s * 1e6));
  client->set_connection_timeout(timeout);
  client->set_read_timeout(timeout);
  client->set_write_timeout(timeout);
  client->set_keep_alive(true);
  return std::unique_ptr<HttpConnection>(new HttpConnection(std::move(client)));
}

StatusOr<HttpReply> HttpConnection::Get(const std::string& path) {
  auto result = client_->Get(path, RequestHeaders(""));
  if (!result) return TransportError(result.error(), "GET " + path);
  return HttpReply{result->status, result->body};
}

StatusOr<HttpReply> HttpConnection::PostJson(const std::string& path, const std::string& body,
                                             const std::string& request_id) {
  auto result = client_->Post(path, RequestHeaders(request_id), body, "application/json");
  if (!result) return TransportError(result.error(), "POST " + path);
  return HttpReply{result->status, result->body};
}

StatusOr<HttpReply> HttpConnection::PostJsonStreamed(const std::string& path, const std::string& body,
                                                     const std::string& request_id,
                                                     const std::function<bool(std::string_view)>& on_data) {
  httplib::Request req;
  req.method = "POST";
  req.path = path;
  req.headers = RequestHeaders(request_id);
  req.headers.emplace("Content-Type", "application/json");
  req.headers.emplace("Accept", "text/event-stream");
  req.body = body;
  HttpReply reply;
  req.response_handler = [&reply](const httplib::Response& res) {
    reply.status = res.status;
    return true;
  };
  req.content_receiver = [&](const char* data, size_t n, uint64_t, uint64_t) {
    if (reply.status / 100 != 2) {
      reply.body.append(data, n);
      return true;
    }
    return on_data(std::string_view(data, n));
  };
  httplib::Response res;
  httplib::Error error = httplib::Error::Success;
  if (!client_->send(req, res, error) && error != httplib::Error::Canceled) {
    return TransportError(error, "POST " + path);
  }
  return reply;
}

}  // namespace sieve::clients
