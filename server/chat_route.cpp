#include "server/chat_route.h"

#include <fmt/format.h>
#include <httplib.h>

#include <memory>

#include "server/chat_request.h"
#include "server/forced_tool_calls.h"
#include "server/generation.h"
#include "server/http_reply.h"
#include "server/logprobs_format.h"
#include "server/sse.h"

namespace sieve::server {

namespace {

using Json = nlohmann::ordered_json;

// The stream delta object for one parser delta. Reasoning goes out under both names: `reasoning_content`
// (DeepSeek's and SGLang's) and `reasoning` (vLLM's newer one).
Json DeltaJson(const text::MessageDelta& d, bool first) {
  Json delta = Json::object();
  if (first) delta["role"] = "assistant";
  if (!d.reasoning_content.empty()) {
    delta["reasoning_content"] = d.reasoning_content;
    delta["reasoning"] = d.reasoning_content;
  }
  if (!d.content.empty()) delta["content"] = d.content;
  if (!d.tool_calls.empty()) {
    Json calls = Json::array();
    for (const text::ToolCallDelta& c : d.tool_calls) {
      Json call = {{"index", c.index}};
      if (!c.id.empty()) {
        call["id"] = c.id;
        call["type"] = "function";
      }
      Json fn = Json::object();
      if (!c.name.empty()) fn["name"] = c.name;
      fn["arguments"] = c.arguments;
      call["function"] = std::move(fn);
      calls.push_back(std::move(call));
    }
    delta["tool_calls"] = std::move(calls);
  }
  return delta;
}

bool IsEmpty(const text::MessageDelta& d) {
  return d.reasoning_content.empty() && d.content.empty() && d.tool_calls.empty();
}

struct ChatChoice {
  std::unique_ptr<text::OutputParser> parser;
  std::unique_ptr<ForcedToolCalls> forced;
  text::ParsedMessage message;
  Json logprobs = Json::array();
  bool sent_role = false;
  std::string finish_reason;
};

class ChatBuilder {
 public:
  ChatBuilder(const ServerState& state, const ChatRequest& request, const Generation& g)
      : state_(state), request_(request), g_(g) {
    for (int k = 0; k < request.params.n; ++k)
      choices_.push_back({std::make_unique<text::OutputParser>(request.parser),
                          std::make_unique<ForcedToolCalls>(request.forced_tool_choice, request.forced_tool_name,
                                                            request.parser.tool_call_id_seed),
                          {}, Json::array(), false, ""});
  }

  // Feeds one update to its choice's parser; returns the deltas it made final.
  std::vector<text::MessageDelta> Apply(const engine::RequestOutput& o, ChatChoice** choice) {
    ChatChoice& c = choices_[o.index];
    *choice = &c;
    std::vector<text::MessageDelta> deltas = c.parser->Push(o.text_delta);
    if (o.finished) {
      for (text::MessageDelta& d : c.parser->Finish()) deltas.push_back(std::move(d));
    }
    for (text::MessageDelta& d : deltas) d = c.forced->Rewrite(std::move(d));
    if (o.finished) {
      deltas.push_back(c.forced->Finish());
      c.finish_reason = request_.forced_tool_choice != ForcedToolChoice::kNone ? c.forced->FinishReason(o.finish_reason)
                        : c.parser->made_tool_calls() && o.finish_reason == "stop" ? "tool_calls"
                                                                                   : o.finish_reason;
    }
    for (const text::MessageDelta& d : deltas) text::AccumulateDelta(d, &c.message);
    return deltas;
  }

  Json LogprobsJson(const engine::RequestOutput& o) const {
    if (!request_.logprobs) return nullptr;
    return {{"content", ChatLogprobContent(state_.limits.tokenizer, o.logprobs)}};
  }

  Json Usage() const {
    const int64_t prompt = g_.prompt_tokens() / request_.params.n;
    Json usage = {{"prompt_tokens", prompt},
                  {"completion_tokens", g_.completion_tokens()},
                  {"total_tokens", prompt + g_.completion_tokens()}};
    if (g_.cached_prompt_tokens() > 0) usage["prompt_tokens_details"] = {{"cached_tokens", g_.cached_prompt_tokens()}};
    return usage;
  }

  Json Envelope(const char* object) const {
    return {{"id", g_.id()}, {"object", object}, {"created", g_.created()}, {"model", state_.model_name()}};
  }

  void AddLogprobs(const engine::RequestOutput& o) {
    if (!request_.logprobs) return;
    for (Json& entry : ChatLogprobContent(state_.limits.tokenizer, o.logprobs)) choices_[o.index].logprobs.push_back(entry);
  }

  Json Whole() const {
    Json body = Envelope("chat.completion");
    body["choices"] = Json::array();
    for (size_t i = 0; i < choices_.size(); ++i) {
      const ChatChoice& c = choices_[i];
      Json message = {{"role", "assistant"},
                      {"content", c.message.content.empty() && !c.message.tool_calls.empty() ? Json(nullptr)
                                                                                              : Json(c.message.content)}};
      if (!c.message.reasoning_content.empty()) {
        message["reasoning_content"] = c.message.reasoning_content;
        message["reasoning"] = c.message.reasoning_content;
      }
      Json calls = Json::array();
      for (const text::ToolCall& t : c.message.tool_calls)
        calls.push_back({{"id", t.id}, {"type", "function"}, {"function", {{"name", t.name}, {"arguments", t.arguments}}}});
      message["tool_calls"] = std::move(calls);
      body["choices"].push_back({{"index", i},
                                 {"message", std::move(message)},
                                 {"logprobs", request_.logprobs ? Json{{"content", c.logprobs}} : Json(nullptr)},
                                 {"finish_reason", c.finish_reason}});
    }
    body["usage"] = Usage();
    return body;
  }

 private:
  const ServerState& state_;
  const ChatRequest& request_;
  const Generation& g_;
  std::vector<ChatChoice> choices_;
};

}  // namespace

void HandleChatCompletions(ServerState& state, const httplib::Request& req, httplib::Response& res) {
  auto body = ParseRequestBody(req.body);
  if (!body.ok()) return SendError(res, body.status());
  auto parsed = ParseChatRequest(*body, state.limits, state.chat);
  if (!parsed.ok()) return SendError(res, parsed.status());
  auto request = std::make_shared<ChatRequest>(std::move(parsed).value());
  auto started = Generation::Start(state, fmt::format("chatcmpl-{:016x}", state.next_request++), {request->prompt_ids},
                                   request->params, ConnectionProbe(req.remote_addr, req.remote_port, req.local_port));
  if (!started.ok()) return SendError(res, started.status());
  std::shared_ptr<Generation> g = std::move(started).value();
  auto builder = std::make_shared<ChatBuilder>(state, *request, *g);

  if (!request->stream) {
    while (!g->done()) {
      for (const StreamUpdate& u : g->Next()) {
        ChatChoice* choice = nullptr;
        builder->Apply(u.output, &choice);
        builder->AddLogprobs(u.output);
      }
    }
    g->Finish();
    return SendJson(res, builder->Whole());
  }
  StreamRenderer renderer;
  renderer.on_updates = [builder](const std::vector<StreamUpdate>& updates) {
    std::string events;
    for (const StreamUpdate& u : updates) {
      ChatChoice* c = nullptr;
      std::vector<text::MessageDelta> deltas = builder->Apply(u.output, &c);
      // One chunk per update: its deltas merged in order (a single parser delta is the common case).
      text::MessageDelta merged;
      for (const text::MessageDelta& d : deltas) {
        merged.reasoning_content += d.reasoning_content;
        merged.content += d.content;
        merged.tool_calls.insert(merged.tool_calls.end(), d.tool_calls.begin(), d.tool_calls.end());
      }
      const bool has_logprobs = !u.output.logprobs.empty() && builder->LogprobsJson(u.output) != nullptr;
      if (IsEmpty(merged) && !u.output.finished && !has_logprobs) continue;
      Json chunk = builder->Envelope("chat.completion.chunk");
      chunk["choices"] = Json::array({{{"index", u.output.index},
                                       {"delta", DeltaJson(merged, !c->sent_role)},
                                       {"logprobs", builder->LogprobsJson(u.output)},
                                       {"finish_reason", u.output.finished ? Json(c->finish_reason) : Json(nullptr)}}});
      chunk["usage"] = nullptr;
      c->sent_role = true;
      events += SseEvent(chunk);
    }
    return events;
  };
  renderer.on_end = [request, builder]() -> std::string {
    if (!request->include_usage) return "";
    Json chunk = builder->Envelope("chat.completion.chunk");
    chunk["choices"] = Json::array();
    chunk["usage"] = builder->Usage();
    return SseEvent(chunk);
  };
  StreamResponse(g, std::move(renderer), res);
}

}  // namespace sieve::server
