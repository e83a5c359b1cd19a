// The one log line per HTTP request: method, path, status, request id, token counts and timings (never
// headers, so never the API key). Streams log when they end, other requests when the handler returns.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace sieve::server {

struct RequestLog {
  std::string method;
  std::string path;
  std::chrono::steady_clock::time_point arrival;
  std::string request_id;  // "cmpl-…" / "chatcmpl-…" for generation routes
  int64_t prompt_tokens = 0;
  int64_t completion_tokens = 0;
  std::optional<double> ttft_s;
  bool deferred = false;   // a stream: logged by the stream when it ends
};

// `outcome` is "ok", "client disconnected", ...
void LogRequest(const RequestLog& log, int http_status, const char* outcome = "ok");

}  // namespace sieve::server
