// The one place that turns a Status into an OpenAI-shaped error: HTTP status plus
// {"error": {"message", "type", "param", "code"}} (the shape vLLM's ErrorResponse and OpenAI's API use).
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "core/status.h"

namespace sieve::server {

struct HttpReply {
  int status = 200;
  std::string body;  // JSON text
};

// The error object alone, for an error sent inside an SSE stream after the headers went out.
nlohmann::json OpenAiErrorJson(const Status& status);
// The reply for a failed request; `status` must not be OK.
HttpReply ToOpenAiError(const Status& status);
// The HTTP status code a failed Status maps to.
int HttpStatusFor(const Status& status);

}  // namespace sieve::server
