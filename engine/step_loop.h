// StepLoop: the engine thread. It takes submitted and aborted requests from an inbox (under a mutex,
// waking on a condition variable: no busy waiting), then runs steps while there is work:
// Schedule -> Forward/sample (ModelRunner) -> Commit, and hands each output to its submitter's callback
// on this thread, with no lock held. With data-parallel replicas (a ReplicaSync) every step is agreed
// with the other replicas first, and the loop also wakes every kReplicaPoll while idle to join theirs.
#pragma once

#include <chrono>
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
#include "engine/replica_sync.h"
#include "engine/scheduler.h"

namespace sieve::engine {

class StepLoop {
 public:
  // `pool` is the scheduler's; read for statistics. `replicas` (null without data parallelism) must
  // outlive the loop.
  StepLoop(std::unique_ptr<Scheduler> scheduler, std::unique_ptr<ModelRunner> runner, const BlockPool* pool,
           ReplicaSync* replicas = nullptr);
  ~StepLoop();

  // InvalidArgument if a live request already has this id; Unavailable once stopping.
  Status Enqueue(std::unique_ptr<Request> request, Engine::OutputCallback callback);
  void Abort(const std::string& request_id);
  EngineStats Stats() const;
  // Joins the thread, then ends every queued and running request with "abort" (idempotent). With
  // replicas the thread first keeps joining the others' steps until every replica is stopping.
  void Stop();

 private:
  // How long an idle replica waits for work before it joins the next agreement: the added latency of a
  // request that arrives at an idle data-parallel job, against one small all-reduce per poll.
  static constexpr std::chrono::milliseconds kReplicaPoll{5};

  void Run();
  // One round with the other replicas; false when they all stop.
  bool ReplicaRound(bool stopping);
  // Returns whether a model call was made (none when nothing could be scheduled).
  bool Step();
  void Deliver(std::vector<RequestOutput>& outputs);
  void PublishStats();

  std::unique_ptr<Scheduler> scheduler_;  // engine thread only
  std::unique_ptr<ModelRunner> runner_;   // engine thread only
  const BlockPool* pool_;
  ReplicaSync* replicas_;
  // Engine thread only: each live request's callback and choices still unfinished.
  struct Subscriber {
    Engine::OutputCallback callback;
    int num_unfinished = 0;
  };
  std::unordered_map<std::string, Subscriber> subscribers_;
  int64_t num_steps_ = 0;  // engine thread only
  bool replicas_stepping_ = false;  // engine thread only: the last replica round made a step

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
