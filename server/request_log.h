// The one log line per HTTP request: method, path, status, duration and, for generations, the request id,
// token counts and time to first token. A handler and cpp-httplib's logger run on the same worker thread,
// so the record for the request being served is kept per thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace sieve::server {

struct RequestRecord {
  std::chrono::steady_clock::time_point start;
  std::string request_id;  // empty for non-generation requests
  int64_t prompt_tokens = 0;
  int64_t completion_tokens = 0;
  double ttft_s = -1;
  std::string finish_reason;
};

// The record of the request this thread is serving.
RequestRecord& CurrentRequestRecord();
// Starts a fresh record (at the start of routing).
void BeginRequestRecord();
// Logs the line for the request this thread just answered.
void LogRequest(const std::string& method, const std::string& path, int status);

}  // namespace sieve::server
