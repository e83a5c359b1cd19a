// One keep-alive HTTP connection to an OpenAI-compatible server (cpp-httplib client), used by
// `sieve bench serve` and `sieve eval gsm8k`. Transport failures (unreachable, timeout) come back as a
// Status; an HTTP error status is a normal reply, so callers can count it as a failed request.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "core/status.h"

namespace httplib {
class Client;
}

namespace sieve::clients {

// "http://host:port/v1" -> origin "http://host:port", path prefix "/v1" (no trailing slash).
struct BaseUrl {
  std::string origin;
  std::string path_prefix;
};
StatusOr<BaseUrl> ParseBaseUrl(std::string_view url);

struct HttpReply {
  int status = 0;
  std::string body;
};

class HttpConnection {
 public:
  // `timeout_s` bounds connecting and each read/write (not the whole request).
  static StatusOr<std::unique_ptr<HttpConnection>> Open(const std::string& origin, double timeout_s);
  ~HttpConnection();

  StatusOr<HttpReply> Get(const std::string& path);
  StatusOr<HttpReply> PostJson(const std::string& path, const std::string& body,
                               const std::string& request_id = "");
  // Like PostJson, but hands the body to `on_data` as each piece arrives (for SSE streams); on_data
  // returns false to stop. The reply body is collected only for non-2xx statuses (the error text).
  StatusOr<HttpReply> PostJsonStreamed(const std::string& path, const std::string& body,
                                       const std::string& request_id,
                                       const std::function<bool(std::string_view)>& on_data);

 private:
  explicit HttpConnection(std::unique_ptr<httplib::Client> client);
  std::unique_ptr<httplib::Client> client_;
};

}  // namespace sieve::clients
