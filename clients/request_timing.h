// Per-request timing of one streamed completion, as vLLM's bench client records it
// (vllm/benchmarks/lib/endpoint_request_func.py @ 02cfb534, bench-serve.md §4): a token event is an SSE
// message whose `choices` list is non-empty; TTFT is the first event's time after the send, ITL the gaps
// between events (one per chunk, not per token), E2EL the last event's time; the output length is the
// usage chunk's completion_tokens. Times are passed in, so a test can script them.
#pragma once

#include <string>
#include <vector>

namespace sieve::clients {

struct RequestOutput {
  bool success = false;
  std::string error;
  double start_time_s = 0;   // when the POST was sent, seconds since the benchmark started
  double queue_time_s = 0;   // waited for a concurrency slot after arrival (client_queue_time)
  double ttft_s = 0;
  std::vector<double> itl_s;
  double latency_s = 0;      // E2EL: last token event minus start
  int output_tokens = 0;     // usage.completion_tokens; 0 when the server sent no usage
  int prompt_len = 0;        // the dataset's count, replaced by usage.prompt_tokens when present
  std::string generated_text;
};

class StreamRecorder {
 public:
  StreamRecorder(bool chat, double start_time_s, int prompt_len);
  // One SSE message's data, received at `time_s` (same clock as start_time_s).
  void OnMessage(const std::string& data, double time_s);
  // After the body ended: success iff HTTP 2xx, no stream error, at least one token event and the
  // closing [DONE] (a stream cut before it is a failure here, stricter than vLLM, which keeps it).
  RequestOutput Finish(int http_status, const std::string& error_body);
  // The request never got a response (connection refused, timeout).
  RequestOutput Fail(const std::string& error);

 private:
  bool chat_;
  RequestOutput out_;
  bool seen_token_ = false;
  bool seen_done_ = false;
  double last_token_time_s_ = 0;
};

}  // namespace sieve::clients
