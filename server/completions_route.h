// POST /v1/completions: streamed (SSE) and whole responses, echo, logprobs, several prompts and n choices
// (choice index = prompt index * n + choice).
#pragma once

namespace httplib {
struct Request;
struct Response;
}  // namespace httplib

namespace sieve::server {

struct ServerState;

void HandleCompletions(ServerState& state, const httplib::Request& req, httplib::Response& res);

}  // namespace sieve::server
