// Writing replies on an httplib response: JSON bodies and OpenAI errors (via ToOpenAiError).
#pragma once

#include <httplib.h>

#include "core/status.h"
#include "server/json_fields.h"

namespace sieve::server {

void ReplyJson(httplib::Response& res, const Json& body, int http_status = 200);
void ReplyError(httplib::Response& res, const Status& status);

}  // namespace sieve::server
