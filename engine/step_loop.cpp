// StepLoop: inbox draining, the step itself, and output delivery.
#include "engine/step_loop.h"

#include <fmt/format.h>

#include "core/logging.h"

namespace sieve::engine {

StepLoop::StepLoop(std::unique_ptr<Scheduler> scheduler, std::unique_ptr<ModelRunner> runner, const BlockPool* pool,
                   ReplicaSync* replicas)
    : scheduler_(std::move(scheduler)), runner_(std::move(runner)), pool_(pool), replicas_(replicas) {
  PublishStats();
  thread_ = std::thread([this] { Run(); });
}

StepLoop::~StepLoop() { Stop(); }

Status StepLoop::Enqueue(std::unique_ptr<Request> request, Engine::OutputCallback callback) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return Status::Unavailable("the engine is shutting down");
    if (!live_ids_.insert(request->id).second)
      return Status::InvalidArgument(fmt::format("request id '{}' is already in use", request->id)).WithParam("request_id");
    inbox_.emplace_back(std::move(request), std::move(callback));
  }
  wake_.notify_one();
  return Status::Ok();
}

void StepLoop::Abort(const std::string& request_id) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!live_ids_.count(request_id)) return;
    aborts_.push_back(request_id);
  }
  wake_.notify_one();
}

EngineStats StepLoop::Stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

void StepLoop::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  wake_.notify_one();
  if (thread_.joinable()) thread_.join();
  // The thread is gone: this caller now owns the engine-thread state.
  std::vector<std::pair<std::unique_ptr<Request>, Engine::OutputCallback>> inbox;
  {
    std::lock_guard<std::mutex> lock(mu_);
    inbox.swap(inbox_);
  }
  for (auto& [request, callback] : inbox) {
    subscribers_[request->id] = Subscriber{std::move(callback), static_cast<int>(request->choices.size())};
    scheduler_->Add(std::move(request));
  }
  std::vector<RequestOutput> outputs = scheduler_->AbortAll();
  PublishStats();
  Deliver(outputs);
}

void StepLoop::Run() {
  for (;;) {
    std::vector<std::pair<std::unique_ptr<Request>, Engine::OutputCallback>> inbox;
    std::vector<std::string> aborts;
    bool stopping = false;
    {
      std::unique_lock<std::mutex> lock(mu_);
      auto ready = [&] { return stopping_ || !inbox_.empty() || !aborts_.empty() || has_work_; };
      // While another replica steps, this one must not wait: every round waits for the slowest replica.
      if (replicas_ == nullptr) wake_.wait(lock, ready);
      else if (!replicas_stepping_) wake_.wait_for(lock, kReplicaPoll, ready);
      stopping = stopping_;
      if (stopping && replicas_ == nullptr) return;
      // Once stopping, new work waits for Stop() to abort it: the loop only keeps the replicas in step.
      if (!stopping) {
        inbox.swap(inbox_);
        aborts.swap(aborts_);
      }
    }
    for (auto& [request, callback] : inbox) {
      subscribers_[request->id] = Subscriber{std::move(callback), static_cast<int>(request->choices.size())};
      scheduler_->Add(std::move(request));
    }
    std::vector<RequestOutput> outputs;
    for (const std::string& id : aborts) {
      std::vector<RequestOutput> o = scheduler_->Abort(id);
      outputs.insert(outputs.end(), std::make_move_iterator(o.begin()), std::make_move_iterator(o.end()));
    }
    PublishStats();
    Deliver(outputs);
    if (replicas_ != nullptr) {
      if (!ReplicaRound(stopping)) return;
    } else if (scheduler_->HasWork()) {
      Step();
    }
  }
}

bool StepLoop::ReplicaRound(bool stopping) {
  const bool has_work = !stopping && scheduler_->HasWork();
  const ReplicaSync::Round round = replicas_->Agree(has_work, stopping);
  replicas_stepping_ = round.step;
  if (round.stop) return false;
  // Exactly one model call whenever some replica steps, so the MoE layers' all-to-alls meet.
  if (round.step && !(has_work && Step())) runner_->RunIdle();
  return true;
}

bool StepLoop::Step() {
  ScheduledBatch batch = scheduler_->Schedule();
  std::vector<RequestOutput> outputs;
  if (batch.empty()) {
    // Only possible if a waiting request can never be admitted, which Submit's checks rule out: end
    // the queue rather than spin.
    spdlog::error("engine: nothing schedulable with {} waiting requests; aborting them", scheduler_->num_waiting());
    outputs = scheduler_->AbortAll();
    PublishStats();
    Deliver(outputs);
    return false;
  }
  ++num_steps_;
  std::vector<ChunkResult> results;
  if (Status s = runner_->Run(batch, &results); !s.ok()) {
    spdlog::error("engine: forward step failed, aborting all requests: {}", s.ToString());
    outputs = scheduler_->AbortAll();
    PublishStats();
    Deliver(outputs);
    return true;
  }
  CommitResult commit = scheduler_->Commit(batch, results);
  runner_->CopyBlocks(commit.block_copies);
  PublishStats();  // before the callbacks, so a submitter that sees its last update sees these stats
  Deliver(commit.outputs);
  return true;
}

void StepLoop::Deliver(std::vector<RequestOutput>& outputs) {
  for (RequestOutput& out : outputs) {
    auto it = subscribers_.find(out.request_id);
    if (it == subscribers_.end()) continue;
    if (!out.finished || --it->second.num_unfinished > 0) {
      it->second.callback(out);
      continue;
    }
    // The request's last update: its id is free again before the submitter hears of it, so the
    // submitter may reuse the id from inside the callback.
    Engine::OutputCallback callback = std::move(it->second.callback);
    subscribers_.erase(it);
    {
      std::lock_guard<std::mutex> lock(mu_);
      live_ids_.erase(out.request_id);
    }
    callback(out);
  }
}

void StepLoop::PublishStats() {
  const SchedulerCounters& c = scheduler_->counters();
  std::lock_guard<std::mutex> lock(mu_);
  has_work_ = scheduler_->HasWork();
  stats_.num_running = scheduler_->num_running();
  stats_.num_waiting = scheduler_->num_waiting() + static_cast<int64_t>(inbox_.size());
  stats_.kv_blocks_total = pool_->num_blocks();
  stats_.kv_blocks_used = pool_->num_used_blocks();
  stats_.kv_token_capacity = pool_->num_blocks() * pool_->block_size();
  stats_.prompt_tokens_total = c.prompt_tokens;
  stats_.generation_tokens_total = c.generation_tokens;
  stats_.prefix_cache_queries = c.prefix_cache_queries;
  stats_.prefix_cache_hits = c.prefix_cache_hits;
  stats_.num_preemptions_total = c.preemptions;
  stats_.requests_finished_total = c.requests_finished;
  stats_.steps_total = num_steps_;
  stats_.spec_num_drafts = c.spec_drafts;
  stats_.spec_num_draft_tokens = c.spec_draft_tokens;
  stats_.spec_num_accepted_tokens = c.spec_accepted_tokens;
  stats_.spec_accepted_per_pos = c.spec_accepted_per_pos;
}

}  // namespace sieve::engine
