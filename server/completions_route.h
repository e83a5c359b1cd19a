// POST /v1/completions: one engine request per prompt, n choices each (choice index = prompt * n + k, as
// vLLM numbers them), echo, legacy logprobs, streamed as SSE when asked.
#pragma once

#include <httplib.h>

#include "server/request_log.h"
#include "server/server_state.h"

namespace sieve::server {

void HandleCompletions(const httplib::Request& req, httplib::Response& res, ServerState& state, RequestLog& log);

}  // namespace sieve::server
