// /v1/chat/completions: request -> Generation -> chat.completion objects (whole or as chunks).
// Reasoning is reported as `reasoning_content` (DeepSeek's and SGLang's name) and `reasoning` (vLLM's newer
// name); finish_reason is "tool_calls" when the parser found a tool call in a choice that stopped.
#include "server/chat_route.h"

#include "server/chat_request.h"
#include "server/generation.h"
#include "server/http_reply.h"
#include "server/logprobs_format.h"
#include "server/request_id.h"
#include "server/sse.h"

namespace sieve::server {

namespace {

struct ChoiceState {
  std::unique_ptr<text::OutputParser> parser;
  text::ParsedMessage message;  // accumulated deltas
  Json logprobs = Json::array();
  bool role_sent = false;
  std::string finish_reason;
};

Json DeltaJson(const text::MessageDelta& d) {
  Json delta = Json::object();
  if (!d.reasoning_content.empty()) {
    delta["reasoning_content"] = d.reasoning_content;
    delta["reasoning"] = d.reasoning_content;
  }
  if (!d.content.empty()) delta["content"] = d.content;
  if (!d.tool_calls.empty()) {
    Json calls = Json::array();
    for (const text::ToolCallDelta& call : d.tool_calls) {
      Json c = {{"index", call.index}};
      Json function = Json::object();
      if (!call.id.empty()) {
        c["id"] = call.id;
        c["type"] = "function";
      }
      if (!call.name.empty()) function["name"] = call.name;
      function["arguments"] = call.arguments;
      c["function"] = std::move(function);
      calls.push_back(std::move(c));
    }
    delta["tool_calls"] = std::move(calls);
  }
  return delta;
}

class ChatAssembler {
 public:
  ChatAssembler(const ChatRequest& request, const ServingContext& context, std::string id)
      : context_(context), id_(std::move(id)), created_(UnixSeconds()), logprobs_(request.logprobs),
        stream_(request.stream) {
    for (int k = 0; k < request.request.params.n; ++k) {
      choices_.emplace_back();
      choices_.back().parser = std::make_unique<text::OutputParser>(request.parser);
    }
  }

  // Applies outputs; returns the stream chunks they make.
  std::vector<Json> Apply(const std::vector<GenerationOutput>& outputs) {
    std::vector<Json> chunks;
    for (const GenerationOutput& item : outputs) {
      const engine::RequestOutput& o = item.output;
      ChoiceState& c = choices_[o.index];
      if (o.new_token_ids.empty() && !o.finished) continue;
      if (!c.role_sent) {  // the first chunk of a choice, sent once its first token exists
        c.role_sent = true;
        chunks.push_back(Chunk(o.index, {{"role", "assistant"}, {"content", ""}}, Json(), Json()));
      }
      std::vector<text::MessageDelta> deltas = c.parser->Push(o.text_delta);
      if (o.finished) {
        for (text::MessageDelta& d : c.parser->Finish()) deltas.push_back(std::move(d));
        c.finish_reason = o.finish_reason == "stop" && c.parser->made_tool_calls() ? "tool_calls" : o.finish_reason;
      }
      Json logprobs;
      if (logprobs_ && !o.logprobs.empty()) {
        Json content = ChatLogprobsContent(*context_.tokenizer, o.logprobs);
        for (const Json& entry : content) c.logprobs.push_back(entry);
        logprobs = {{"content", std::move(content)}};
      }
      const size_t first = chunks.size();
      for (const text::MessageDelta& d : deltas) {
        text::AccumulateDelta(d, &c.message);
        chunks.push_back(Chunk(o.index, DeltaJson(d), chunks.size() == first ? logprobs : Json(), Json()));
      }
      if (chunks.size() == first && (o.finished || !logprobs.is_null()))
        chunks.push_back(Chunk(o.index, Json::object(), logprobs, Json()));
      if (o.finished) chunks.back()["choices"][0]["finish_reason"] = c.finish_reason;
    }
    return chunks;
  }

  Json UsageChunk(const Generation& g) const {
    Json chunk = Header("chat.completion.chunk");
    chunk["choices"] = Json::array();
    chunk["usage"] = Usage(g);
    return chunk;
  }

  Json Response(const Generation& g) const {
    Json response = Header("chat.completion");
    response["choices"] = Json::array();
    for (size_t i = 0; i < choices_.size(); ++i) {
      const ChoiceState& c = choices_[i];
      const text::ParsedMessage& m = c.message;
      Json message = {{"role", "assistant"}};
      message["content"] = m.content.empty() && !m.tool_calls.empty() ? Json() : Json(m.content);
      message["reasoning_content"] = m.reasoning_content.empty() ? Json() : Json(m.reasoning_content);
      message["reasoning"] = message["reasoning_content"];
      if (!m.tool_calls.empty()) {
        message["tool_calls"] = Json::array();
        for (const text::ToolCall& call : m.tool_calls)
          message["tool_calls"].push_back(
              {{"id", call.id}, {"type", "function"}, {"function", {{"name", call.name}, {"arguments", call.arguments}}}});
      }
      response["choices"].push_back({{"index", i},
                                     {"message", std::move(message)},
                                     {"logprobs", logprobs_ ? Json{{"content", c.logprobs}} : Json()},
                                     {"finish_reason", c.finish_reason}});
    }
    response["usage"] = Usage(g);
    return response;
  }
  const StreamOptions& stream() const { return stream_; }

 private:
  Json Header(const char* object) const {
    return {{"id", id_}, {"object", object}, {"created", created_}, {"model", context_.served_model_name}};
  }
  Json Chunk(int index, Json delta, Json logprobs, Json finish_reason) const {
    Json chunk = Header("chat.completion.chunk");
    chunk["choices"] = Json::array(
        {{{"index", index}, {"delta", std::move(delta)}, {"logprobs", std::move(logprobs)}, {"finish_reason", std::move(finish_reason)}}});
    if (stream_.include_usage) chunk["usage"] = nullptr;
    return chunk;
  }
  static Json Usage(const Generation& g) {
    return {{"prompt_tokens", g.prompt_tokens()},
            {"completion_tokens", g.completion_tokens()},
            {"total_tokens", g.prompt_tokens() + g.completion_tokens()}};
  }

  const ServingContext& context_;
  std::string id_;
  int64_t created_;
  bool logprobs_;
  StreamOptions stream_;
  std::vector<ChoiceState> choices_;
};

}  // namespace

void HandleChatCompletions(const httplib::Request& req, httplib::Response& res, ServerState& state, RequestLog& log) {
  log.request_id = NewRequestId("chatcmpl-");
  StatusOr<Json> body = ParseJsonObject(req.body);
  if (!body.ok()) return ReplyError(res, body.status());
  StatusOr<ChatRequest> request = ParseChatRequest(*body, log.request_id, state.context);
  if (!request.ok()) return ReplyError(res, request.status());
  auto assembler = std::make_shared<ChatAssembler>(*request, state.context, log.request_id);
  std::vector<engine::GenerationRequest> requests;
  requests.push_back(std::move(request->request));
  StatusOr<std::unique_ptr<Generation>> started = Generation::Start(state, std::move(requests), log.arrival);
  if (!started.ok()) return ReplyError(res, started.status());
  std::shared_ptr<Generation> generation = std::move(started).value();

  if (!assembler->stream().stream) {
    while (!generation->done()) assembler->Apply(generation->Next(std::chrono::milliseconds(100)));
    log.prompt_tokens = generation->prompt_tokens();
    log.completion_tokens = generation->completion_tokens();
    log.ttft_s = generation->ttft_s();
    return ReplyJson(res, assembler->Response(*generation));
  }
  log.deferred = true;
  Generation* g = generation.get();
  StreamGeneration(res, generation,
                   {.on_outputs = [assembler](const std::vector<GenerationOutput>& outputs) { return assembler->Apply(outputs); },
                    .on_done =
                        [assembler, g] {
                          return assembler->stream().include_usage ? std::vector<Json>{assembler->UsageChunk(*g)}
                                                                   : std::vector<Json>{};
                        },
                    .on_end =
                        [g, log](bool completed) mutable {
                          log.prompt_tokens = g->prompt_tokens();
                          log.completion_tokens = g->completion_tokens();
                          log.ttft_s = g->ttft_s();
                          LogRequest(log, 200, completed ? "ok" : "client disconnected");
                        }});
}

}  // namespace sieve::server
