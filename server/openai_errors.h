// The one place that maps a Status to an OpenAI error reply: {"error": {"message", "type", "param", "code"}}
// with its HTTP status. Every route and the HTTP layer report failures through it.
#pragma once

#include <string>

#include "core/status.h"

namespace sieve::server {

struct ErrorReply {
  int http_status = 500;
  std::string body;  // the JSON text
};

ErrorReply ToOpenAiError(const Status& status);

}  // namespace sieve::server
