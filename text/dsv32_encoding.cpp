// DeepSeek-V3.2 prompt encoding. Every rule below follows encoding_dsv32.py (deepseek-ai/DeepSeek-V3.2,
// encoding/); its Python asserts become InvalidArgument with the offending message as `param`.
#include "text/dsv32_encoding.h"

#include <fmt/format.h>

#include "text/chat_messages.h"
#include "text/python_json.h"

namespace sieve::text {
namespace {

using Json = nlohmann::ordered_json;

constexpr std::string_view kBos = "<｜begin▁of▁sentence｜>";
constexpr std::string_view kEos = "<｜end▁of▁sentence｜>";
constexpr std::string_view kThinkStart = "<think>";
constexpr std::string_view kThinkEnd = "</think>";

// TOOLS_SYSTEM_TEMPLATE of encoding_dsv32.py. Note the blank lines: vLLM's and SGLang's copies drop
// them, the reference keeps them (see ../shared/fixtures/chat/README.md).
constexpr std::string_view kToolsTemplateHead = R"(## Tools

You have access to a set of tools you can use to answer the user's question.
You can invoke functions by writing a "<｜DSML｜function_calls>" block like the following as part of your reply to the user:
<｜DSML｜function_calls>
<｜DSML｜invoke name="$FUNCTION_NAME">
<｜DSML｜parameter name="$PARAMETER_NAME" string="true|false">$PARAMETER_VALUE</｜DSML｜parameter>
...
</｜DSML｜invoke>
<｜DSML｜invoke name="$FUNCTION_NAME2">
...
</｜DSML｜invoke>
</｜DSML｜function_calls>

String and scalar parameters should be specified as is without any escaping or quotes, while lists and objects should use JSON format. The "string" attribute should be set to "true" for string type parameters and "false" for other types (numbers, booleans, arrays, objects).

If the thinking_mode is enabled, then after function results you should strongly consider outputting a thinking block. Here is an example:

<｜DSML｜function_calls>
...
</｜DSML｜function_calls>

<function_results>
...
</function_results>

<think>...thinking about results</think>

Here are the functions available in JSONSchema format:
<functions>
)";

bool Truthy(const Json* v) {
  if (v == nullptr || v->is_null()) return false;
  if (v->is_array() || v->is_object() || v->is_string()) return !v->empty() && !(v->is_string() && v->get_ref<const std::string&>().empty());
  if (v->is_boolean()) return v->get<bool>();
  return true;
}

const Json* Field(const Json& msg, const char* key) {
  const auto it = msg.find(key);
  return it == msg.end() ? nullptr : &*it;
}

// "## Tools ..." with one JSON schema per tool (tool["function"]); `where` names the tools field.
StatusOr<std::string> RenderTools(const Json& tools, const std::string& where) {
  if (!tools.is_array()) return Status::InvalidArgument("tools must be a list").WithParam(where);
  std::string out(kToolsTemplateHead);
  for (size_t i = 0; i < tools.size(); ++i) {
    const Json* fn = tools[i].is_object() ? Field(tools[i], "function") : nullptr;
    if (fn == nullptr || !fn->is_object())
      return Status::InvalidArgument("tool has no 'function' object").WithParam(fmt::format("{}[{}]", where, i));
    if (i > 0) out += "\n";
    out += PythonJsonDumps(*fn);
  }
  out += "\n</functions>\n";
  return out;
}

std::string RenderResponseFormat(const Json& response_format) {
  return "\n\n## Response Format:\n\nYou MUST strictly adhere to the following schema to reply:\n" +
         PythonJsonDumps(response_format);
}

// One DSML invoke per tool call: arguments (a JSON string) become one parameter line per key; strings
// raw with string="true", anything else as JSON with string="false".
StatusOr<std::string> RenderToolCalls(const Json& tool_calls, size_t index) {
  std::string out = "\n\n<｜DSML｜function_calls>\n";
  for (size_t k = 0; k < tool_calls.size(); ++k) {
    const std::string where = fmt::format("messages[{}].tool_calls[{}]", index, k);
    const Json& call = tool_calls[k];
    const Json* fn = call.is_object() ? Field(call, "function") : nullptr;
    if (fn == nullptr || !fn->is_object() || !fn->contains("name") || !(*fn)["name"].is_string())
      return Status::InvalidArgument("tool call needs function.name").WithParam(where + ".function.name");
    const Json* args = Field(*fn, "arguments");
    if (args == nullptr || !args->is_string())
      return Status::InvalidArgument("function.arguments must be a JSON string").WithParam(where + ".function.arguments");
    const Json parsed = Json::parse(args->get_ref<const std::string&>(), nullptr, /*allow_exceptions=*/false);
    if (parsed.is_discarded() || !parsed.is_object())
      return Status::InvalidArgument("function.arguments is not a JSON object").WithParam(where + ".function.arguments");
    if (k > 0) out += "\n";
    out += fmt::format("<｜DSML｜invoke name=\"{}\">\n", (*fn)["name"].get<std::string>());
    bool first = true;
    for (const auto& [key, value] : parsed.items()) {
      if (!first) out += "\n";
      first = false;
      const bool is_string = value.is_string();
      out += fmt::format("<｜DSML｜parameter name=\"{}\" string=\"{}\">{}</｜DSML｜parameter>", key,
                         is_string ? "true" : "false", is_string ? value.get<std::string>() : PythonJsonDumps(value));
    }
    out += "\n</｜DSML｜invoke>";
  }
  out += "\n</｜DSML｜function_calls>";
  return out;
}

class Encoder {
 public:
  Encoder(const Json& all, bool thinking) : all_(all), thinking_(thinking) {
    for (size_t i = all.size(); i-- > 0;) {
      const Json* role = all[i].is_object() ? Field(all[i], "role") : nullptr;
      if (role && role->is_string() && (*role == "user" || *role == "developer")) {
        last_user_ = static_cast<long>(i);
        break;
      }
    }
  }

  StatusOr<std::string> Render(size_t index) const {
    const Json& msg = all_[index];
    SIEVE_ASSIGN_OR_RETURN(const std::string role, MessageRole(msg, index));
    SIEVE_ASSIGN_OR_RETURN(const std::optional<std::string> content, MessageContent(msg, index));
    const Json* tools = Field(msg, "tools");
    const Json* response_format = Field(msg, "response_format");
    const std::string at = fmt::format("messages[{}]", index);
    std::string out;
    if (role == "system") {
      out += content.value_or("");
      if (Truthy(tools)) {
        SIEVE_ASSIGN_OR_RETURN(const std::string block, RenderTools(*tools, at + ".tools"));
        out += "\n\n" + block;
      }
      if (Truthy(response_format)) out += RenderResponseFormat(*response_format);
    } else if (role == "user" || role == "developer") {
      std::string body;
      if (role == "developer") {
        if (!content || content->empty())
          return Status::InvalidArgument("a developer message needs non-empty content").WithParam(at + ".content");
        if (Truthy(tools)) {
          SIEVE_ASSIGN_OR_RETURN(const std::string block, RenderTools(*tools, at + ".tools"));
          body += "\n\n" + block;
        }
        if (Truthy(response_format)) body += RenderResponseFormat(*response_format);
        body += "\n\n# The user's message is: " + *content;
      } else {
        if (!content) return Status::InvalidArgument("a user message needs content").WithParam(at + ".content");
        body = *content;
      }
      out += fmt::format("<｜User｜>{}<｜Assistant｜>", body);
      out += IsLastUser(index) && thinking_ ? kThinkStart : kThinkEnd;
    } else if (role == "tool") {
      SIEVE_ASSIGN_OR_RETURN(out, RenderToolResult(index, content.value_or("")));
    } else if (role == "assistant") {
      SIEVE_ASSIGN_OR_RETURN(out, RenderAssistant(index, msg, content.value_or("")));
    } else {
      return Status::InvalidArgument(fmt::format("unknown role '{}'", role)).WithParam(at + ".role");
    }
    return out;
  }

 private:
  bool IsLastUser(size_t index) const { return static_cast<long>(index) == last_user_; }

  // Results are matched to the preceding assistant's calls by position (tool_call_id is not used).
  StatusOr<std::string> RenderToolResult(size_t index, const std::string& content) const {
    const std::string at = fmt::format("messages[{}]", index);
    long prev = static_cast<long>(index) - 1;
    while (prev >= 0 && all_[prev].is_object() && all_[prev].value("role", "") == "tool") --prev;
    const Json* calls = prev >= 0 && all_[prev].is_object() && all_[prev].value("role", "") == "assistant"
                            ? Field(all_[prev], "tool_calls")
                            : nullptr;
    const size_t order = index - prev;  // 1-based position among the results
    if (!Truthy(calls) || !calls->is_array() || calls->size() < order)
      return Status::InvalidArgument("tool result without a matching tool call in the preceding assistant message")
          .WithParam(at);
    std::string out;
    if (order == 1) out += "\n\n<function_results>";
    out += fmt::format("\n<result>{}</result>", content);
    if (order == calls->size()) {
      out += "\n</function_results>\n\n";
      out += static_cast<long>(index) >= last_user_ && thinking_ ? kThinkStart : kThinkEnd;
    }
    return out;
  }

  StatusOr<std::string> RenderAssistant(size_t index, const Json& msg, const std::string& content) const {
    const Json* calls = Field(msg, "tool_calls");
    std::string calls_text;
    if (Truthy(calls)) {
      if (!calls->is_array())
        return Status::InvalidArgument("tool_calls must be a list").WithParam(fmt::format("messages[{}].tool_calls", index));
      SIEVE_ASSIGN_OR_RETURN(calls_text, RenderToolCalls(*calls, index));
    }
    // vLLM also accepts `reasoning` as the field name.
    SIEVE_ASSIGN_OR_RETURN(std::optional<std::string> reasoning, MessageString(msg, index, "reasoning_content"));
    if (!reasoning) {
      SIEVE_ASSIGN_OR_RETURN(reasoning, MessageString(msg, index, "reasoning"));
    }
    std::string out;
    // Reasoning is rendered only for turns after the last user message; earlier turns drop it.
    if (thinking_ && static_cast<long>(index) > last_user_) {
      if (reasoning.value_or("").empty() && calls_text.empty())
        return Status::InvalidArgument(
                   "thinking mode: an assistant message after the last user message needs reasoning_content or "
                   "tool_calls")
            .WithParam(fmt::format("messages[{}]", index));
      out += reasoning.value_or("");
      out += kThinkEnd;
    }
    out += content + calls_text;
    out += kEos;
    return out;
  }

  const Json& all_;
  bool thinking_;
  long last_user_ = -1;
};

}  // namespace

StatusOr<std::string> EncodeDsv32Messages(const Dsv32EncodeInput& input) {
  if (input.thinking_mode != "chat" && input.thinking_mode != "thinking")
    return Status::InvalidArgument(fmt::format("thinking mode must be 'chat' or 'thinking', got '{}'", input.thinking_mode));
  if (input.messages == nullptr || !input.messages->is_array())
    return Status::InvalidArgument("messages must be a list").WithParam("messages");
  const bool has_context = input.context != nullptr && input.context->is_array() && !input.context->empty();
  Json all = has_context ? *input.context : Json::array();
  const size_t first = all.size();
  for (const Json& m : *input.messages) all.push_back(m);

  std::string prompt = input.add_default_bos_token && !has_context ? std::string(kBos) : "";
  if (input.tools != nullptr && Truthy(input.tools)) {
    SIEVE_ASSIGN_OR_RETURN(const std::string block, RenderTools(*input.tools, "tools"));
    prompt += "\n\n" + block;
  }
  const Encoder encoder(all, input.thinking_mode == "thinking");
  for (size_t i = first; i < all.size(); ++i) {
    auto rendered = encoder.Render(i);
    if (!rendered.ok()) {
      // Report the index within `messages`, not within context + messages.
      Status s = rendered.status();
      std::string param = s.param();
      const std::string prefix = fmt::format("messages[{}]", i);
      if (has_context && param.rfind(prefix, 0) == 0)
        param = fmt::format("messages[{}]", i - first) + param.substr(prefix.size());
      return Status(s.code(), s.message()).WithParam(param);
    }
    prompt += *rendered;
  }
  return prompt;
}

}  // namespace sieve::text
