// One HTTP request's generation: submits one engine request per prompt, hands the updates to the route
// as they come, aborts everything when the client goes away, and on destruction records the metrics and
// the request-log fields. Used by both the completions and the chat route.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "server/connection_probe.h"
#include "server/request_stream.h"
#include "server/server_state.h"

namespace sieve::server {

class Generation {
 public:
  // `id` names the HTTP request ("cmpl-…"); engine request k is "<id>-<k>". Fails (and submits nothing
  // that stays queued) when the engine rejects a request or the server is draining.
  static StatusOr<std::unique_ptr<Generation>> Start(ServerState& state, std::string id,
                                                     const std::vector<std::vector<int32_t>>& prompts,
                                                     const engine::SamplingParams& params, ConnectionProbe probe);
  ~Generation();
  Generation(const Generation&) = delete;
  Generation& operator=(const Generation&) = delete;

  // Waits a short while (at most one poll interval) for updates. Checks the client first: once it is
  // gone, aborts every engine request; their final "abort" updates still arrive here.
  std::vector<StreamUpdate> Next();
  bool done() const { return stream_->done(); }
  // Aborts every engine request (a failed write, or shutdown).
  void Abort();
  // Ends the request: aborts and drains whatever is unfinished, records the metrics and this thread's
  // request-log fields. Called before the response's last byte (the request log is written then) and,
  // if not yet, by the destructor.
  void Finish();

  const std::string& id() const { return id_; }
  int64_t created() const { return created_; }
  int num_choices_per_prompt() const { return n_; }
  int64_t prompt_tokens() const { return prompt_tokens_; }
  int64_t completion_tokens() const { return completion_tokens_; }
  int64_t cached_prompt_tokens() const { return cached_prompt_tokens_; }

 private:
  Generation(ServerState& state, std::string id, int num_prompts, int n, ConnectionProbe probe);

  ServerState& state_;
  const std::string id_;
  const int num_prompts_;
  const int n_;
  const int64_t created_;  // unix seconds, the responses' `created`
  const std::chrono::steady_clock::time_point start_;
  ConnectionProbe probe_;
  std::shared_ptr<RequestStream> stream_;
  bool aborted_ = false;
  bool rejected_ = false;  // Start failed
  bool finished_ = false;
  double ttft_s_ = -1;
  std::string first_finish_reason_;
  int64_t prompt_tokens_ = 0;
  int64_t cached_prompt_tokens_ = 0;
  int64_t completion_tokens_ = 0;
};

}  // namespace sieve::server
