// POST /v1/chat/completions: one engine request with n choices; each choice's text goes through a
// text::OutputParser (reasoning, tool calls) into an assistant message, whole or as SSE deltas.
#pragma once

#include <httplib.h>

#include "server/request_log.h"
#include "server/server_state.h"

namespace sieve::server {

void HandleChatCompletions(const httplib::Request& req, httplib::Response& res, ServerState& state, RequestLog& log);

}  // namespace sieve::server
