// Generation in flight: engine callbacks -> queue -> HTTP thread.
#include "server/generation.h"

namespace sieve::server {

struct Generation::Queue {
  std::mutex mu;
  std::condition_variable ready;
  std::vector<GenerationOutput> items;
};

Generation::Generation(ServerState& state, Clock::time_point arrival)
    : state_(state), arrival_(arrival), queue_(std::make_shared<Queue>()) {
  ++state_.generations_in_flight;
}

StatusOr<std::unique_ptr<Generation>> Generation::Start(ServerState& state,
                                                        std::vector<engine::GenerationRequest> requests,
                                                        Clock::time_point arrival) {
  std::unique_ptr<Generation> g(new Generation(state, arrival));
  for (size_t i = 0; i < requests.size(); ++i) {
    engine::GenerationRequest& r = requests[i];
    const int n = r.params.n;
    g->request_ids_.push_back(r.request_id);
    g->prompt_lengths_.push_back(static_cast<int64_t>(r.prompt_ids.size()));
    g->choice_started_.emplace_back(n, false);
    g->choice_finished_.emplace_back(n, false);
    g->num_choices_ += n;
    g->prompt_tokens_ += static_cast<int64_t>(r.prompt_ids.size());
    std::weak_ptr<Queue> weak = g->queue_;
    const int prompt_index = static_cast<int>(i);
    auto callback = [weak, prompt_index](const engine::RequestOutput& output) {
      const std::shared_ptr<Queue> q = weak.lock();
      if (!q) return;  // the HTTP side is gone; nothing reads this any more
      {
        std::lock_guard<std::mutex> lock(q->mu);
        q->items.push_back({prompt_index, output});
      }
      q->ready.notify_one();
    };
    if (Status s = state.engine.Submit(std::move(r), std::move(callback)); !s.ok()) {
      g->request_ids_.pop_back();  // not in the engine; the destructor aborts the others
      return s;
    }
  }
  return g;
}

Generation::~Generation() {
  --state_.generations_in_flight;
  if (done()) return;
  for (size_t i = 0; i < request_ids_.size(); ++i) {
    bool unfinished = false;
    for (size_t c = 0; c < choice_finished_[i].size(); ++c)
      if (!choice_finished_[i][c]) {
        unfinished = true;
        state_.metrics.RecordFinish("abort", std::chrono::duration<double>(Clock::now() - arrival_).count());
      }
    if (unfinished) state_.engine.Abort(request_ids_[i]);
  }
}

std::vector<GenerationOutput> Generation::Next(std::chrono::milliseconds timeout) {
  std::vector<GenerationOutput> items;
  {
    std::unique_lock<std::mutex> lock(queue_->mu);
    queue_->ready.wait_for(lock, timeout, [&] { return !queue_->items.empty(); });
    items.swap(queue_->items);
  }
  const Clock::time_point now = Clock::now();
  for (const GenerationOutput& item : items) Record(item, now);
  return items;
}

void Generation::Record(const GenerationOutput& item, Clock::time_point now) {
  const engine::RequestOutput& o = item.output;
  const double since_arrival_s = std::chrono::duration<double>(now - arrival_).count();
  const bool started = choice_started_[item.prompt_index][o.index];
  if (!started && !o.new_token_ids.empty()) {
    choice_started_[item.prompt_index][o.index] = true;
    state_.metrics.RecordFirstToken(since_arrival_s);
    if (!ttft_s_) ttft_s_ = since_arrival_s;
  }
  completion_tokens_ += static_cast<int64_t>(o.new_token_ids.size());
  if (o.finished && !choice_finished_[item.prompt_index][o.index]) {
    choice_finished_[item.prompt_index][o.index] = true;
    ++num_finished_;
    state_.metrics.RecordFinish(o.finish_reason, since_arrival_s);
  }
}

}  // namespace sieve::server
