// StepLoop: the engine thread. It takes submitted and aborted requests from an inbox (under a mutex,
// waking on a condition variable: no busy waiting), then runs steps while there is work:
// Schedule -> Forward/sample (ModelRunner) -> Commit, and hands each output to its submitter's callback
// on this thread, with no lock held.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "engine/engine.h"
#include "engine/model_runner.h"
#include "engine/scheduler.h"

namespace sieve::engine {

class StepLoop {
 public:
  // `pool` is the scheduler's; read for statistics.
  StepLoop(std::unique_ptr<Scheduler> scheduler, std::unique_ptr<ModelRunner> runner, const BlockPool* pool);
  ~StepLoop();

  // InvalidArgument if a live request already has this id; Unavailable once stopping.
  Status Enqueue(std::unique_ptr<Request> request, Engine::OutputCallback callback);
  void Abort(const std::string& request_id);
  EngineStats Stats() const;
  // Joins the thread, then ends every queued and running request with "abort" (idempotent).
  void Stop();

 private:
  void Run();
  void Step();
  void Deliver(std::vector<RequestOutput>& outputs);
  void PublishStats();

  std::unique_ptr<Scheduler> scheduler_;  // engine thread only
  std::unique_ptr<ModelRunner> runner_;   // engine thread only
  const BlockPool* pool_;
  // Engine thread only: each live request's callback and choices still unfinished.
  struct Subscriber {
    Engine::OutputCallback callback;
    int num_unfinished = 0;
  };
  std::unordered_map<std::string, Subscriber> subscribers_;
  int64_t num_steps_ = 0;  // engine thread only

  mutable std::mutex mu_;
  std::condition_variable wake_;
  std::vector<std::pair<std::unique_ptr<Request>, Engine::OutputCallback>> inbox_;  // guarded by mu_
  std::vector<std::string> aborts_;                                                 // guarded by mu_
  std::unordered_set<std::string> live_ids_;                                        // guarded by mu_
  bool has_work_ = false;                                                           // guarded by mu_
  bool stopping_ = false;                                                           // guarded by mu_
  EngineStats stats_;                                                               // guarded by mu_
  std::thread thread_;
};

}  // namespace sieve::engine
