// Per-request log line.
#include "server/request_log.h"

#include <fmt/format.h>

#include "core/logging.h"

namespace sieve::server {

void LogRequest(const RequestLog& log, int http_status, const char* outcome) {
  const double total_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - log.arrival).count();
  std::string line = fmt::format("{} {} {} {:.1f}ms", log.method, log.path, http_status, total_ms);
  if (!log.request_id.empty()) {
    line += fmt::format(" id={} prompt_tokens={} completion_tokens={}", log.request_id, log.prompt_tokens,
                        log.completion_tokens);
    if (log.ttft_s) line += fmt::format(" ttft={:.1f}ms", *log.ttft_s * 1000);
  }
  if (std::string_view(outcome) != "ok") line += fmt::format(" ({})", outcome);
  spdlog::info("{}", line);
}

}  // namespace sieve::server
