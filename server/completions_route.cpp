#include "server/completions_route.h"

#include <fmt/format.h>
#include <httplib.h>

#include "server/completion_request.h"
#include "server/generation.h"
#include "server/http_reply.h"
#include "server/logprobs_format.h"
#include "server/sse.h"
#include "text/tokenizer.h"

namespace sieve::server {

namespace {

using Json = nlohmann::ordered_json;

// One choice being assembled: text so far, logprobs, how it ended.
struct CompletionChoice {
  std::string text;
  CompletionLogprobs logprobs;
  bool started = false;  // echo text and prompt logprobs go into the choice's first event
  Json finish_reason = nullptr;
  Json stop_reason = nullptr;
};

class CompletionBuilder {
 public:
  CompletionBuilder(const ServerState& state, const CompletionRequest& request, const Generation& g)
      : state_(state), request_(request), g_(g) {
    const size_t num_choices = request.prompts.size() * static_cast<size_t>(request.params.n);
    for (size_t i = 0; i < num_choices; ++i)
        choices_.push_back({"", CompletionLogprobs(state.limits.tokenizer), false, nullptr, nullptr});
  }

  // Applies one update to its choice; returns the choice index.
  int Apply(const StreamUpdate& u, std::string* text_delta) {
    const int index = u.prompt_index * request_.params.n + u.output.index;
    CompletionChoice& c = choices_[index];
    const CompletionPrompt& prompt = request_.prompts[u.prompt_index];
    text_delta->clear();
    if (!c.started) {
      c.started = true;
      if (request_.echo) {
        *text_delta = prompt.text;
        if (request_.params.logprobs) c.logprobs.AddPrompt(prompt.ids, u.output.prompt_logprobs);
      }
    }
    *text_delta += u.output.text_delta;
    c.text += *text_delta;
    c.logprobs.AddGenerated(u.output.logprobs);
    if (u.output.finished) {
      c.finish_reason = u.output.finish_reason;
      if (u.output.stop_reason) c.stop_reason = *u.output.stop_reason;
    }
    return index;
  }

  Json Usage() const {
    return {{"prompt_tokens", g_.prompt_tokens() / request_.params.n},
            {"completion_tokens", g_.completion_tokens()},
            {"total_tokens", g_.prompt_tokens() / request_.params.n + g_.completion_tokens()}};
  }

  Json Envelope() const {
    return {{"id", g_.id()}, {"object", "text_completion"}, {"created", g_.created()}, {"model", state_.model_name()}};
  }

  Json Choice(int index, const std::string& text) {
    CompletionChoice& c = choices_[index];
    return {{"index", index},
            {"text", text},
            {"logprobs", request_.params.logprobs ? c.logprobs.Take() : Json(nullptr)},
            {"finish_reason", c.finish_reason},
            {"stop_reason", c.stop_reason}};
  }

  Json Whole() {
    Json body = Envelope();
    body["choices"] = Json::array();
    for (size_t i = 0; i < choices_.size(); ++i) body["choices"].push_back(Choice(int(i), choices_[i].text));
    body["usage"] = Usage();
    return body;
  }

 private:
  const ServerState& state_;
  const CompletionRequest& request_;
  const Generation& g_;
  std::vector<CompletionChoice> choices_;
};

}  // namespace

void HandleCompletions(ServerState& state, const httplib::Request& req, httplib::Response& res) {
  auto body = ParseRequestBody(req.body);
  if (!body.ok()) return SendError(res, body.status());
  auto parsed = ParseCompletionRequest(*body, state.limits);
  if (!parsed.ok()) return SendError(res, parsed.status());
  auto request = std::make_shared<CompletionRequest>(std::move(parsed).value());
  std::vector<std::vector<int32_t>> prompts;
  for (const CompletionPrompt& p : request->prompts) prompts.push_back(p.ids);
  auto started = Generation::Start(state, fmt::format("cmpl-{:016x}", state.next_request++), prompts, request->params,
                                   ConnectionProbe(req.remote_addr, req.remote_port, req.local_port));
  if (!started.ok()) return SendError(res, started.status());
  std::shared_ptr<Generation> g = std::move(started).value();
  auto builder = std::make_shared<CompletionBuilder>(state, *request, *g);

  if (!request->stream) {
    while (!g->done()) {
      for (const StreamUpdate& u : g->Next()) {
        std::string delta;
        builder->Apply(u, &delta);
      }
    }
    g->Finish();
    return SendJson(res, builder->Whole());
  }
  StreamRenderer renderer;
  renderer.on_updates = [request, builder](const std::vector<StreamUpdate>& updates) {
    std::string events;
    for (const StreamUpdate& u : updates) {
      std::string delta;
      const int index = builder->Apply(u, &delta);
      // An update with no text and no end (a token held back by a stop-string match) sends nothing.
      if (delta.empty() && !u.output.finished && u.output.logprobs.empty()) continue;
      Json chunk = builder->Envelope();
      chunk["choices"] = Json::array({builder->Choice(index, delta)});
      chunk["usage"] = nullptr;
      events += SseEvent(chunk);
    }
    return events;
  };
  renderer.on_end = [request, builder]() -> std::string {
    if (!request->include_usage) return "";
    Json chunk = builder->Envelope();
    chunk["choices"] = Json::array();
    chunk["usage"] = builder->Usage();
    return SseEvent(chunk);
  };
  StreamResponse(g, std::move(renderer), res);
}

}  // namespace sieve::server
