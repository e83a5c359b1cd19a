// What answers which request, without sockets: the route table, the API-key check and the OpenAI-shaped
// body for requests no route answers. HttpServer registers this table with cpp-httplib's socket loop;
// Dispatch runs the same pipeline on a request already in memory (the HTTP-handler fuzz target).
#pragma once

#include <span>

#include "server/server_state.h"

namespace httplib {
struct Request;
struct Response;
}  // namespace httplib

namespace sieve::server {

using RouteHandler = void (*)(ServerState&, const httplib::Request&, httplib::Response&);

struct Route {
  const char* method;  // "GET" or "POST"
  const char* path;    // exact path, no parameters
  RouteHandler handler;
};

// Every endpoint `sieve serve` answers.
std::span<const Route> Routes();

// With --api-key, every endpoint but /health needs the key. False (and `res` holds the 401) when the
// request may not go on.
bool Authorize(const ServerState& state, const httplib::Request& req, httplib::Response& res);

// Gives a response that has a status but no body (unknown route, an HTTP-level failure) an OpenAI error
// body; a handler's own error keeps its body.
void FillErrorBody(const httplib::Request& req, httplib::Response& res);

// The answer for an exception that escaped a handler (a bug, never a bad request): 500, OpenAI-shaped.
void AnswerException(std::exception_ptr error, httplib::Response& res);

// Answers `req` as the server does: API key, route (GET routes also answer HEAD, as cpp-httplib's),
// handler, then FillErrorBody. A streamed answer is left in `res`'s chunked content provider.
void Dispatch(ServerState& state, const httplib::Request& req, httplib::Response& res);

}  // namespace sieve::server
