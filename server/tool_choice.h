// `tools` and `tool_choice` of a chat request: checks each tool's schema and decides which tools the
// prompt shows and whether the output is parsed for tool calls, with vLLM's rules (tools without
// tool_choice mean "auto", which needs --enable-auto-tool-choice and a --tool-call-parser).
#pragma once

#include <optional>
#include <string>

#include "server/json_fields.h"
#include "server/serving_context.h"

namespace sieve::server {

struct ToolPlan {
  // The tools to encode into the prompt (null: none), a subset of the request's `tools`.
  std::optional<Json> prompt_tools;
  // Parse the output for tool calls.
  bool parse_tool_calls = false;
};

StatusOr<ToolPlan> PlanTools(const Json& body, const ServingContext& context);

}  // namespace sieve::server
