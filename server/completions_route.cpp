// /v1/completions: request -> Generation -> text_completion objects (whole or as SSE chunks).
#include "server/completions_route.h"

#include "server/completion_request.h"
#include "server/generation.h"
#include "server/http_reply.h"
#include "server/logprobs_format.h"
#include "server/request_id.h"
#include "server/sse.h"

namespace sieve::server {

namespace {

struct ChoiceState {
  std::string text;
  std::optional<CompletionLogprobs> logprobs;
  bool started = false;
  std::string finish_reason;
  Json stop_reason;
};

// Turns engine outputs into completion choices; used whole (non-streaming) or chunk by chunk.
class CompletionAssembler {
 public:
  CompletionAssembler(CompletionRequest request, const ServingContext& context, std::string id)
      : request_(std::move(request)), context_(context), id_(std::move(id)), created_(UnixSeconds()) {
    for (const engine::GenerationRequest& r : request_.prompts) {
      n_ = r.params.n;
      for (int k = 0; k < r.params.n; ++k) {
        choices_.emplace_back();
        if (request_.logprobs) choices_.back().logprobs.emplace(*context.tokenizer);
      }
    }
    prompt_logprobs_.resize(request_.prompts.size());
  }

  // The new text of each output, applied to its choice; returns the choice JSON for a stream chunk.
  std::vector<Json> Apply(const std::vector<GenerationOutput>& outputs) {
    std::vector<Json> chunk_choices;
    for (const GenerationOutput& item : outputs) {
      const engine::RequestOutput& o = item.output;
      const int index = item.prompt_index * n_ + o.index;
      ChoiceState& c = choices_[index];
      if (!o.prompt_logprobs.empty()) prompt_logprobs_[item.prompt_index] = o.prompt_logprobs;
      std::string text;
      if (!c.started) {
        c.started = true;
        if (request_.echo) {
          text = request_.prompt_texts[item.prompt_index];
          if (c.logprobs)
            c.logprobs->AppendPrompt(request_.prompts[item.prompt_index].prompt_ids, prompt_logprobs_[item.prompt_index]);
        }
      }
      if (!request_.prompt_only) {
        text += o.text_delta;
        if (c.logprobs) c.logprobs->AppendGenerated(o.logprobs);
      }
      c.text += text;
      if (o.finished) {
        c.finish_reason = o.finish_reason;
        c.stop_reason = o.stop_reason ? Json(*o.stop_reason) : Json();
      }
      // A whole (non-streamed) answer takes its logprobs once, at the end.
      if (!request_.stream.stream || (text.empty() && o.new_token_ids.empty() && !o.finished)) continue;
      chunk_choices.push_back(Choice(index, text, c));
    }
    return chunk_choices;
  }

  Json Chunk(std::vector<Json> choices) const {
    Json chunk = Header();
    chunk["choices"] = std::move(choices);
    if (request_.stream.include_usage) chunk["usage"] = nullptr;
    return chunk;
  }
  Json UsageChunk(const Generation& g) const {
    Json chunk = Header();
    chunk["choices"] = Json::array();
    chunk["usage"] = Usage(g);
    return chunk;
  }
  Json Response(const Generation& g) {
    Json response = Header();
    response["choices"] = Json::array();
    for (size_t i = 0; i < choices_.size(); ++i) response["choices"].push_back(Choice(i, choices_[i].text, choices_[i]));
    response["usage"] = Usage(g);
    return response;
  }
  int64_t CompletionTokens(const Generation& g) const { return request_.prompt_only ? 0 : g.completion_tokens(); }
  bool stream() const { return request_.stream.stream; }
  bool include_usage() const { return request_.stream.include_usage; }

 private:
  Json Header() const { return {{"id", id_}, {"object", "text_completion"}, {"created", created_}, {"model", context_.served_model_name}}; }
  Json Choice(size_t index, const std::string& text, ChoiceState& c) {
    const bool finished = !c.finish_reason.empty();
    return {{"index", index},
            {"text", text},
            {"logprobs", c.logprobs ? c.logprobs->Take() : Json()},
            {"finish_reason", finished ? Json(c.finish_reason) : Json()},
            {"stop_reason", c.stop_reason}};
  }
  Json Usage(const Generation& g) const {
    const int64_t completion = CompletionTokens(g);
    return {{"prompt_tokens", g.prompt_tokens()}, {"completion_tokens", completion}, {"total_tokens", g.prompt_tokens() + completion}};
  }

  CompletionRequest request_;
  const ServingContext& context_;
  std::string id_;
  int64_t created_;
  int n_ = 1;
  std::vector<ChoiceState> choices_;
  std::vector<std::vector<std::optional<engine::TokenLogprob>>> prompt_logprobs_;  // [prompt]
};

}  // namespace

void HandleCompletions(const httplib::Request& req, httplib::Response& res, ServerState& state, RequestLog& log) {
  log.request_id = NewRequestId("cmpl-");
  StatusOr<Json> body = ParseJsonObject(req.body);
  if (!body.ok()) return ReplyError(res, body.status());
  StatusOr<CompletionRequest> request = ParseCompletionRequest(*body, log.request_id, state.context);
  if (!request.ok()) return ReplyError(res, request.status());
  std::vector<engine::GenerationRequest> prompts = request->prompts;
  StatusOr<std::unique_ptr<Generation>> started = Generation::Start(state, std::move(prompts), log.arrival);
  if (!started.ok()) return ReplyError(res, started.status());
  std::shared_ptr<Generation> generation = std::move(started).value();
  auto assembler = std::make_shared<CompletionAssembler>(std::move(request).value(), state.context, log.request_id);

  if (!assembler->stream()) {
    while (!generation->done()) assembler->Apply(generation->Next(std::chrono::milliseconds(100)));
    log.prompt_tokens = generation->prompt_tokens();
    log.completion_tokens = assembler->CompletionTokens(*generation);
    log.ttft_s = generation->ttft_s();
    return ReplyJson(res, assembler->Response(*generation));
  }
  log.deferred = true;
  Generation* g = generation.get();
  StreamGeneration(
      res, generation,
      {.on_outputs =
           [assembler](const std::vector<GenerationOutput>& outputs) {
             std::vector<Json> chunks;
             for (Json& choice : assembler->Apply(outputs)) chunks.push_back(assembler->Chunk({std::move(choice)}));
             return chunks;
           },
       .on_done =
           [assembler, g] {
             return assembler->include_usage() ? std::vector<Json>{assembler->UsageChunk(*g)} : std::vector<Json>{};
           },
       .on_end =
           [assembler, g, log](bool completed) mutable {
             log.prompt_tokens = g->prompt_tokens();
             log.completion_tokens = assembler->CompletionTokens(*g);
             log.ttft_s = g->ttft_s();
             LogRequest(log, 200, completed ? "ok" : "client disconnected");
           }});
}

}  // namespace sieve::server
