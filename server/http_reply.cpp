// JSON and error replies.
#include "server/http_reply.h"

#include "server/openai_errors.h"

namespace sieve::server {

void ReplyJson(httplib::Response& res, const Json& body, int http_status) {
  res.status = http_status;
  // Invalid UTF-8 from a client (echoed prompt text) is replaced rather than failing the reply.
  res.set_content(body.dump(-1, ' ', false, Json::error_handler_t::replace), "application/json");
}

void ReplyError(httplib::Response& res, const Status& status) {
  const ErrorReply reply = ToOpenAiError(status);
  res.status = reply.http_status;
  res.set_content(reply.body, "application/json");
}

}  // namespace sieve::server
