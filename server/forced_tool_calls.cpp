// ForcedToolCalls: content -> tool calls (vLLM serving_chat.py, chat_completion_full_generator and
// chat_completion_stream_generator, named and "required" branches).
#include "server/forced_tool_calls.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "text/python_json.h"

namespace sieve::server {

ForcedToolCalls::ForcedToolCalls(ForcedToolChoice choice, std::string name, uint64_t id_seed)
    : choice_(choice), name_(std::move(name)), id_rng_(id_seed != 0 ? id_seed : std::random_device{}()) {}

std::string ForcedToolCalls::NewId() { return fmt::format("chatcmpl-tool-{:016x}", id_rng_()); }

text::MessageDelta ForcedToolCalls::Rewrite(text::MessageDelta delta) {
  if (choice_ == ForcedToolChoice::kNone || delta.content.empty()) return delta;
  std::string content = std::move(delta.content);
  delta.content.clear();
  if (choice_ == ForcedToolChoice::kRequired) {
    held_ += content;
    return delta;
  }
  text::ToolCallDelta call;
  if (!started_) {
    call.id = NewId();
    call.name = name_;
    started_ = true;
  }
  call.arguments = std::move(content);
  delta.tool_calls.push_back(std::move(call));
  return delta;
}

text::MessageDelta ForcedToolCalls::Finish() {
  text::MessageDelta out;
  if (choice_ != ForcedToolChoice::kRequired || held_.empty()) return out;
  const auto calls = nlohmann::ordered_json::parse(held_, nullptr, /*allow_exceptions=*/false);
  if (!calls.is_array()) {
    out.content = std::move(held_);
    return out;
  }
  int index = 0;
  for (const auto& call : calls) {
    // The grammar guarantees {"name": <a tool name>, "parameters": <its schema>}.
    if (!call.is_object()) continue;
    const auto parameters = call.contains("parameters") ? call["parameters"] : nlohmann::ordered_json::object();
    out.tool_calls.push_back({index++, NewId(), call.value("name", std::string()), text::PythonJsonDumps(parameters)});
  }
  held_.clear();
  return out;
}

std::string ForcedToolCalls::FinishReason(const std::string& engine_reason) const {
  return choice_ == ForcedToolChoice::kRequired && engine_reason == "stop" ? "tool_calls" : engine_reason;
}

}  // namespace sieve::server
