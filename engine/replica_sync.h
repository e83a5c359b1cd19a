// ReplicaSync: the step clock of data-parallel serving (docs/parallelism.md, "Data-parallel serving").
// Each replica has its own HTTP server, scheduler and KV cache, but the MoE layers exchange tokens between
// all replicas (model/expert_dispatch.h), so every replica must make the same model calls. Before each step
// the replica leaders agree, in one small all-reduce, whether any of them has work; if one has, every
// replica makes exactly one model call: its own step, or an empty batch when it has none (vLLM's
// data-parallel engines run "dummy batches" for the same reason).
#pragma once

#include <functional>
#include <latch>
#include <utility>

#include "parallel/communicator.h"

namespace sieve::engine {

class ReplicaSync {
 public:
  // `leaders`: one rank per replica (the rank that runs its engine); it must outlive this. `on_stop` is
  // called once, from the engine's thread, when another replica stops first: a job stops as a whole (an
  // idle replica could not finish alone), so this replica should drain and stop too.
  ReplicaSync(parallel::Communicator& leaders, std::function<void()> on_stop)
      : leaders_(leaders), on_stop_(std::move(on_stop)) {}

  struct Round {
    bool step = false;  // some replica has work: every replica makes one model call
    bool stop = false;  // every replica is stopping and none has work: all step loops end
  };
  // Collective over the leaders, once per round; the first waits for Open. A failed all-reduce (a replica
  // died or hangs past the deadline) leaves the replicas out of step, so it ends the job
  // (parallel::AbortJob).
  Round Agree(bool has_work, bool stopping);
  // Lets Agree run: called once this replica's followers are ready for step commands, since the engine's
  // thread (which calls Agree, and then the model) starts before that.
  void Open() { opened_.count_down(); }

 private:
  parallel::Communicator& leaders_;
  std::function<void()> on_stop_;
  bool told_to_stop_ = false;
  std::latch opened_{1};
};

}  // namespace sieve::engine
