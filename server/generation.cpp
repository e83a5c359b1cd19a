#include "server/generation.h"

#include <fmt/format.h>

#include "server/request_log.h"

namespace sieve::server {

namespace {
// How long Next() waits before looking at the client again: well under one engine step of a real model.
constexpr std::chrono::milliseconds kPollInterval{10};

std::string EngineRequestId(const std::string& id, int k) { return fmt::format("{}-{}", id, k); }
}  // namespace

Generation::Generation(ServerState& state, std::string id, int num_prompts, int n, ConnectionProbe probe)
    : state_(state),
      id_(std::move(id)),
      num_prompts_(num_prompts),
      n_(n),
      created_(std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
                   .count()),
      start_(std::chrono::steady_clock::now()),
      probe_(probe),
      stream_(std::make_shared<RequestStream>(num_prompts * n)) {
  ++state_.in_flight;
}

StatusOr<std::unique_ptr<Generation>> Generation::Start(ServerState& state, std::string id,
                                                        const std::vector<std::vector<int32_t>>& prompts,
                                                        const engine::SamplingParams& params, ConnectionProbe probe) {
  if (state.draining) return Status::Unavailable("the server is shutting down");
  std::unique_ptr<Generation> g(new Generation(state, std::move(id), static_cast<int>(prompts.size()), params.n, probe));
  for (size_t k = 0; k < prompts.size(); ++k) {
    engine::GenerationRequest request{EngineRequestId(g->id_, static_cast<int>(k)), prompts[k], params};
    const Status s = state.engine->Submit(std::move(request), RequestStream::CallbackFor(g->stream_, static_cast<int>(k)));
    if (!s.ok()) {
      for (size_t j = 0; j < k; ++j) state.engine->Abort(EngineRequestId(g->id_, static_cast<int>(j)));
      g->aborted_ = true;
      g->rejected_ = true;  // the destructor drains the aborted ones; nothing is recorded as served
      g->stream_ = std::make_shared<RequestStream>(0);
      return s;
    }
    g->prompt_tokens_ += static_cast<int64_t>(prompts[k].size()) * params.n;
  }
  return g;
}

std::vector<StreamUpdate> Generation::Next() {
  if (!aborted_ && !probe_.PeerConnected()) Abort();
  std::vector<StreamUpdate> updates = stream_->Take(kPollInterval);
  for (const StreamUpdate& u : updates) {
    if (ttft_s_ < 0 && !u.output.new_token_ids.empty())
      ttft_s_ = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    completion_tokens_ += static_cast<int64_t>(u.output.new_token_ids.size());
    if (u.output.index == 0) cached_prompt_tokens_ = std::max(cached_prompt_tokens_, u.output.num_cached_prompt_tokens);
    if (u.output.finished && first_finish_reason_.empty()) first_finish_reason_ = u.output.finish_reason;
  }
  return updates;
}

void Generation::Abort() {
  if (aborted_) return;
  aborted_ = true;
  for (int k = 0; k < num_prompts_; ++k) state_.engine->Abort(EngineRequestId(id_, k));
}

Generation::~Generation() {
  Finish();
  --state_.in_flight;
}

void Generation::Finish() {
  if (finished_) return;
  finished_ = true;
  // Nothing may stay queued for a handler that is gone: abort, then drain the final updates.
  if (!stream_->done()) {
    Abort();
    while (!stream_->done()) Next();
  }
  const double e2e = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const std::string reason = aborted_ ? "abort" : first_finish_reason_;
  if (!rejected_ && !reason.empty())
    state_.metrics->RecordFinished({reason, ttft_s_, e2e, prompt_tokens_, completion_tokens_});
  RequestRecord& record = CurrentRequestRecord();
  record.request_id = id_;
  record.prompt_tokens = prompt_tokens_;
  record.completion_tokens = completion_tokens_;
  record.ttft_s = ttft_s_;
  record.finish_reason = reason;
}

}  // namespace sieve::server
