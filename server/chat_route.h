// POST /v1/chat/completions: encodes the messages for the served family, generates, and parses each
// choice's text into reasoning_content, content and tool_calls, streamed as deltas or whole.
#pragma once

namespace httplib {
struct Request;
struct Response;
}  // namespace httplib

namespace sieve::server {

struct ServerState;

void HandleChatCompletions(ServerState& state, const httplib::Request& req, httplib::Response& res);

}  // namespace sieve::server
