// Structured outputs: the schemas vLLM builds (vllm/entrypoints/openai/protocol.py,
// ChatCompletionRequest._get_json_schema_from_tool) compiled to a text::JsonGrammar.
#include "server/structured_output.h"

#include <fmt/format.h>

namespace sieve::server {

namespace {

StatusOr<std::shared_ptr<const text::JsonGrammar>> Compile(const Json& schema, const std::string& param) {
  auto grammar = text::JsonGrammar::FromSchema(schema);
  if (!grammar.ok()) return Status::InvalidArgument(grammar.status().message()).WithParam(param);
  return *grammar;
}

// "required": a non-empty list of calls, each {"name": one tool's name, "parameters": its schema}; at most
// one call when the request sets parallel_tool_calls to false (OpenAI's meaning of that field).
Json RequiredToolsSchema(const std::vector<ToolSpec>& tools, bool parallel) {
  Json alternatives = Json::array();
  for (const ToolSpec& t : tools) {
    alternatives.push_back({{"properties", {{"name", {{"type", "string"}, {"enum", {t.name}}}}, {"parameters", t.parameters}}},
                            {"required", {"name", "parameters"}}});
  }
  Json schema = {{"type", "array"}, {"minItems", 1}, {"items", {{"type", "object"}, {"anyOf", std::move(alternatives)}}}};
  if (!parallel) schema["maxItems"] = 1;
  return schema;
}

StatusOr<std::shared_ptr<const text::JsonGrammar>> ReadResponseFormat(const Json& body) {
  const Json* format = FindField(body, "response_format");
  if (format == nullptr || format->is_null()) return std::shared_ptr<const text::JsonGrammar>();
  if (!format->is_object()) return Status::InvalidArgument("'response_format' must be an object").WithParam("response_format");
  SIEVE_ASSIGN_OR_RETURN(const auto type, OptionalString(*format, "type", "response_format.type"));
  if (type == "text") return std::shared_ptr<const text::JsonGrammar>();
  if (type == "json_object") return text::JsonGrammar::AnyObject();
  if (type != "json_schema")
    return Status::InvalidArgument("response_format.type must be text, json_object or json_schema")
        .WithParam("response_format.type");
  const Json* spec = FindField(*format, "json_schema");
  if (spec == nullptr || !spec->is_object())
    return Status::InvalidArgument("response_format json_schema needs a 'json_schema' object with a 'schema'")
        .WithParam("response_format.json_schema");
  // OpenAI's field is `schema`; vLLM also reads `json_schema` inside it for older clients.
  const Json* schema = FindField(*spec, "schema");
  if (schema == nullptr) schema = FindField(*spec, "json_schema");
  if (schema == nullptr)
    return Status::InvalidArgument("response_format.json_schema needs a 'schema'").WithParam("response_format.json_schema.schema");
  return Compile(*schema, "response_format.json_schema.schema");
}

}  // namespace

StatusOr<StructuredOutput> ReadStructuredOutput(const Json& body, const std::vector<ToolSpec>& tools,
                                                ForcedToolChoice forced, const std::string& forced_name) {
  StructuredOutput out;
  SIEVE_ASSIGN_OR_RETURN(out.grammar, ReadResponseFormat(body));  // validated even when a tool choice wins
  out.forced = forced;
  out.forced_name = forced_name;
  if (forced == ForcedToolChoice::kNamed) {
    for (size_t i = 0; i < tools.size(); ++i) {
      if (tools[i].name != forced_name) continue;
      SIEVE_ASSIGN_OR_RETURN(out.grammar, Compile(tools[i].parameters, fmt::format("tools[{}].function.parameters", i)));
    }
  } else if (forced == ForcedToolChoice::kRequired) {
    // Each tool's schema alone first, so an error names the tool it is in.
    for (size_t i = 0; i < tools.size(); ++i)
      SIEVE_RETURN_IF_ERROR(Compile(tools[i].parameters, fmt::format("tools[{}].function.parameters", i)).status());
    SIEVE_ASSIGN_OR_RETURN(const auto parallel, OptionalBool(body, "parallel_tool_calls"));
    SIEVE_ASSIGN_OR_RETURN(out.grammar, Compile(RequiredToolsSchema(tools, parallel.value_or(true)), "tools"));
  }
  return out;
}

}  // namespace sieve::server
