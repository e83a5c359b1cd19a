// Tool schema checks and tool_choice resolution. "required" and a named tool are honoured by showing the
// model only the tools it may call and parsing its output; unlike vLLM they are not enforced with
// constrained decoding, so a model may still answer in plain text.
#include "server/tool_choice.h"

#include <fmt/format.h>

namespace sieve::server {

namespace {

// OpenAI's rule for function names: 1-64 of [a-zA-Z0-9_-].
bool IsFunctionName(const std::string& name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-')) return false;
  return true;
}

Status CheckTool(const Json& tool, size_t i) {
  const std::string at = fmt::format("tools[{}]", i);
  if (!tool.is_object()) return WrongType(at, "an object", tool);
  SIEVE_ASSIGN_OR_RETURN(const std::optional<std::string> type, StringField(tool, "type"));
  if (type.value_or("") != "function")
    return Status::InvalidArgument(fmt::format("'{}.type' must be \"function\"", at)).WithParam(at + ".type");
  const Json* fn = FindField(tool, "function");
  if (fn == nullptr || !fn->is_object())
    return Status::InvalidArgument(fmt::format("'{}.function' must be an object", at)).WithParam(at + ".function");
  const Json* name = FindField(*fn, "name");
  if (name == nullptr || !name->is_string() || !IsFunctionName(name->get<std::string>()))
    return Status::InvalidArgument(fmt::format("'{}.function.name' must be 1-64 characters of a-z, A-Z, 0-9, _ and -", at))
        .WithParam(at + ".function.name");
  if (const Json* d = FindField(*fn, "description"); d != nullptr && !d->is_string())
    return WrongType(at + ".function.description", "a string", *d);
  if (const Json* p = FindField(*fn, "parameters"); p != nullptr && !p->is_object())
    return WrongType(at + ".function.parameters", "a JSON Schema object", *p);
  return Status::Ok();
}

const std::string& ToolName(const Json& tool) { return tool["function"]["name"].get_ref<const std::string&>(); }

}  // namespace

StatusOr<ToolPlan> PlanTools(const Json& body, const ServingContext& context) {
  const Json* tools = FindField(body, "tools");
  if (tools != nullptr && !tools->is_array()) return WrongType("tools", "a list", *tools);
  const bool has_tools = tools != nullptr && !tools->empty();
  if (has_tools && context.chat_family == text::ChatFamily::kDeepseekV32Speciale)  // same rule as text::EncodeChat
    return Status::InvalidArgument("DeepSeek-V3.2-Speciale does not support tool calling; remove 'tools'").WithParam("tools");
  if (has_tools)
    for (size_t i = 0; i < tools->size(); ++i) SIEVE_RETURN_IF_ERROR(CheckTool((*tools)[i], i));

  const Json* choice = FindField(body, "tool_choice");
  std::string mode = has_tools ? "auto" : "none";
  std::string named;
  if (choice != nullptr && choice->is_string()) {
    mode = choice->get<std::string>();
    if (mode != "none" && mode != "auto" && mode != "required")
      return Status::InvalidArgument(fmt::format("'tool_choice' must be none, auto, required or a named function; got '{}'", mode))
          .WithParam("tool_choice");
  } else if (choice != nullptr) {
    const Json* fn = choice->is_object() ? FindField(*choice, "function") : nullptr;
    const Json* name = fn != nullptr && fn->is_object() ? FindField(*fn, "name") : nullptr;
    if (name == nullptr || !name->is_string())
      return Status::InvalidArgument("'tool_choice' must be a string or {\"type\": \"function\", \"function\": {\"name\": ...}}")
          .WithParam("tool_choice");
    mode = "named";
    named = name->get<std::string>();
  }

  ToolPlan plan;
  if (mode == "none") return plan;
  if (!has_tools)
    return Status::InvalidArgument(fmt::format("tool_choice '{}' needs a non-empty 'tools' list", mode)).WithParam("tool_choice");
  if (context.tool_call_format == text::ToolCallFormat::kNone)
    return Status::InvalidArgument(fmt::format("tool_choice '{}' needs the server to run with --tool-call-parser", mode))
        .WithParam("tool_choice");
  if (mode == "auto" && !context.enable_auto_tool_choice)
    return Status::InvalidArgument("\"auto\" tool choice requires --enable-auto-tool-choice and --tool-call-parser to be set")
        .WithParam("tool_choice");
  plan.parse_tool_calls = true;
  plan.prompt_tools = *tools;
  if (mode == "named") {
    Json kept = Json::array();
    for (const Json& tool : *tools)
      if (ToolName(tool) == named) kept.push_back(tool);
    if (kept.empty())
      return Status::InvalidArgument(fmt::format("tool_choice names '{}', which is not in 'tools'", named))
          .WithParam("tool_choice");
    plan.prompt_tools = std::move(kept);
  }
  return plan;
}

}  // namespace sieve::server
