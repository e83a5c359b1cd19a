// Structured outputs of a chat request: response_format (text | json_object | json_schema) and forced
// tool choices, turned into the grammar the engine enforces. A forced tool choice wins over
// response_format, as in vLLM's ChatCompletionRequest.to_sampling_params.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "server/forced_tool_calls.h"
#include "server/json_fields.h"
#include "text/json_grammar.h"

namespace sieve::server {

struct ToolSpec {
  std::string name;
  Json parameters;  // JSON Schema; an empty object schema when the tool has none
};

struct StructuredOutput {
  std::shared_ptr<const text::JsonGrammar> grammar;  // null: free text
  ForcedToolChoice forced = ForcedToolChoice::kNone;
  std::string forced_name;                            // kNamed
};

// `forced` / `forced_name` come from tool_choice (validated by the caller). InvalidArgument with the
// param (response_format..., tools[i].function.parameters) for a malformed format or unsupported schema.
StatusOr<StructuredOutput> ReadStructuredOutput(const Json& body, const std::vector<ToolSpec>& tools,
                                                ForcedToolChoice forced, const std::string& forced_name);

}  // namespace sieve::server
