#include "server/http_reply.h"

#include <httplib.h>

#include "server/openai_errors.h"

namespace sieve::server {

void SendJson(httplib::Response& res, const nlohmann::ordered_json& body, int status) {
  res.status = status;
  // Invalid UTF-8 a client sent and a body echoes becomes U+FFFD instead of an exception.
  res.set_content(body.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace), "application/json");
}

void SendError(httplib::Response& res, const Status& status) {
  const HttpReply reply = ToOpenAiError(status);
  res.status = reply.status;
  res.set_content(reply.body, "application/json");
}

}  // namespace sieve::server
