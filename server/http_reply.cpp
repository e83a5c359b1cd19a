#include "server/http_reply.h"

#include <httplib.h>

#include "server/openai_errors.h"

namespace sieve::server {

void SendJson(httplib::Response& res, const nlohmann::ordered_json& body, int status) {
  res.status = status;
  res.set_content(body.dump(), "application/json");
}

void SendError(httplib::Response& res, const Status& status) {
  const HttpReply reply = ToOpenAiError(status);
  res.status = reply.status;
  res.set_content(reply.body, "application/json");
}

}  // namespace sieve::server
