#include "server/request_log.h"

#include "core/logging.h"

namespace sieve::server {

RequestRecord& CurrentRequestRecord() {
  thread_local RequestRecord record;
  return record;
}

void BeginRequestRecord() {
  RequestRecord fresh;
  fresh.start = std::chrono::steady_clock::now();
  CurrentRequestRecord() = fresh;
}

void LogRequest(const std::string& method, const std::string& path, int status) {
  const RequestRecord& r = CurrentRequestRecord();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - r.start).count();
  if (r.request_id.empty()) {
    spdlog::info("{} {} {} {:.3f}s", method, path, status, seconds);
    return;
  }
  spdlog::info("{} {} {} {:.3f}s id={} prompt_tokens={} completion_tokens={} ttft={:.3f}s finish={}", method, path,
               status, seconds, r.request_id, r.prompt_tokens, r.completion_tokens, r.ttft_s, r.finish_reason);
}

}  // namespace sieve::server
