// Carries a request's engine updates from the engine thread to the HTTP handler thread that answers it.
// One RequestStream serves all engine requests of one HTTP request (one per completions prompt), each
// with n choices. Held by shared_ptr: the engine may still call back after the handler has given up.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <string>
#include <vector>

#include "engine/engine.h"

namespace sieve::server {

struct StreamUpdate {
  int prompt_index = 0;
  engine::RequestOutput output;
};

class RequestStream {
 public:
  explicit RequestStream(int expected_choices) : unfinished_(expected_choices) {}

  // The engine callback for the engine request of prompt `prompt_index`.
  static engine::Engine::OutputCallback CallbackFor(std::shared_ptr<RequestStream> stream, int prompt_index);

  // Waits up to `timeout` for updates and takes all that are queued (none after a timeout).
  std::vector<StreamUpdate> Take(std::chrono::milliseconds timeout);
  // True once every choice has had its final update and all updates were taken.
  bool done() const;

 private:
  void Push(int prompt_index, const engine::RequestOutput& output);

  mutable std::mutex mu_;
  std::condition_variable ready_;
  std::deque<StreamUpdate> queue_;
  int unfinished_;
};

}  // namespace sieve::server
