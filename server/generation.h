// One HTTP request's generation in flight: its engine requests (one per prompt, each with n choices),
// the queue that carries their outputs from the engine thread to the HTTP thread, usage counts and the
// per-choice timings reported to Metrics. Destroying a Generation that has not finished aborts it in the
// engine, so a client that goes away (its stream is torn down) frees its KV blocks.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "server/server_state.h"

namespace sieve::server {

using Clock = std::chrono::steady_clock;

struct GenerationOutput {
  int prompt_index = 0;
  engine::RequestOutput output;
};

class Generation {
 public:
  // Submits every request (all validated already); on a failure aborts those already submitted.
  static StatusOr<std::unique_ptr<Generation>> Start(ServerState& state, std::vector<engine::GenerationRequest> requests,
                                                     Clock::time_point arrival);
  ~Generation();
  Generation(const Generation&) = delete;
  Generation& operator=(const Generation&) = delete;

  // The outputs that arrived, waiting up to `timeout` for the first one; empty on timeout.
  std::vector<GenerationOutput> Next(std::chrono::milliseconds timeout);
  // Every choice of every prompt has delivered its final output through Next().
  bool done() const { return num_finished_ == num_choices_; }

  int64_t prompt_tokens() const { return prompt_tokens_; }
  int64_t completion_tokens() const { return completion_tokens_; }
  std::optional<double> ttft_s() const { return ttft_s_; }

 private:
  struct Queue;
  Generation(ServerState& state, Clock::time_point arrival);
  void Record(const GenerationOutput& item, Clock::time_point now);

  ServerState& state_;
  Clock::time_point arrival_;
  std::shared_ptr<Queue> queue_;  // shared with the engine callbacks, which may outlive this object
  std::vector<std::string> request_ids_;
  std::vector<int64_t> prompt_lengths_;
  std::vector<std::vector<bool>> choice_started_;   // [prompt][choice]
  std::vector<std::vector<bool>> choice_finished_;  // [prompt][choice]
  int num_choices_ = 0;
  int num_finished_ = 0;
  int64_t prompt_tokens_ = 0;
  int64_t completion_tokens_ = 0;
  std::optional<double> ttft_s_;
};

}  // namespace sieve::server
