// The V3.2-Exp template as a state machine over messages; the `ns.*` flags keep the template's names so
// the two can be compared line by line (../shared/fixtures/tokenizer/tokenizer_config_v32exp.json).
// Where Jinja would fail on a null field (content None), an empty string is used instead; an empty
// tool_calls list counts as no tool calls (the template would print a lone <｜tool▁calls▁end｜>).
#include "text/v32exp_template.h"

#include <fmt/format.h>

#include "text/chat_messages.h"

namespace sieve::text {

StatusOr<std::string> RenderV32ExpTemplate(const nlohmann::ordered_json& messages, bool add_generation_prompt,
                                           bool thinking) {
  if (!messages.is_array()) return Status::InvalidArgument("messages must be a list").WithParam("messages");
  struct {
    bool is_first = false, is_tool = false, is_first_sp = true, is_last_user = false, is_only_sys = false,
         is_prefix = false;
    std::string system_prompt;
  } ns;
  for (size_t i = 0; i < messages.size(); ++i) {
    SIEVE_ASSIGN_OR_RETURN(const std::string role, MessageRole(messages[i], i));
    if (role != "system") continue;
    SIEVE_ASSIGN_OR_RETURN(const std::optional<std::string> content, MessageContent(messages[i], i));
    if (!ns.is_first_sp) ns.system_prompt += "\n\n";
    ns.system_prompt += content.value_or("");
    ns.is_first_sp = false;
    ns.is_only_sys = true;
  }
  std::string out = "<｜begin▁of▁sentence｜>" + ns.system_prompt;
  for (size_t i = 0; i < messages.size(); ++i) {
    const auto& msg = messages[i];
    SIEVE_ASSIGN_OR_RETURN(const std::string role, MessageRole(msg, i));
    SIEVE_ASSIGN_OR_RETURN(const std::optional<std::string> content, MessageContent(msg, i));
    const auto calls_it = msg.find("tool_calls");
    const bool has_calls = calls_it != msg.end() && calls_it->is_array() && !calls_it->empty();
    if (role == "user") {
      ns.is_tool = ns.is_first = false;
      ns.is_last_user = true;
      out += "<｜User｜>" + content.value_or("");
    } else if (role == "assistant" && has_calls) {
      if (ns.is_last_user || ns.is_only_sys) out += "<｜Assistant｜></think>";
      ns.is_last_user = ns.is_first = ns.is_tool = false;
      for (size_t k = 0; k < calls_it->size(); ++k) {
        const auto& call = (*calls_it)[k];
        const std::string where = fmt::format("messages[{}].tool_calls[{}].function", i, k);
        if (!call.is_object() || !call.contains("function") || !call["function"].is_object())
          return Status::InvalidArgument("tool call needs a function object").WithParam(where);
        const auto& fn = call["function"];
        if (!fn.contains("name") || !fn["name"].is_string())
          return Status::InvalidArgument("function.name must be a string").WithParam(where + ".name");
        if (!fn.contains("arguments") || !fn["arguments"].is_string())
          return Status::InvalidArgument("function.arguments must be a JSON string").WithParam(where + ".arguments");
        // Arguments are inserted verbatim, not re-serialised.
        const std::string call_text = "<｜tool▁call▁begin｜>" + fn["name"].get<std::string>() + "<｜tool▁sep｜>" +
                                      fn["arguments"].get<std::string>() + "<｜tool▁call▁end｜>";
        if (!ns.is_first) {
          out += content.value_or("") + "<｜tool▁calls▁begin｜>" + call_text;
          ns.is_first = true;
        } else {
          out += call_text;
        }
      }
      out += "<｜tool▁calls▁end｜><｜end▁of▁sentence｜>";
    } else if (role == "assistant") {
      const bool prefix = msg.value("prefix", false) == true;
      if (ns.is_last_user) out += std::string("<｜Assistant｜>") + (prefix && thinking ? "<think>" : "</think>");
      if (prefix) ns.is_prefix = true;
      ns.is_last_user = false;
      if (ns.is_tool) {
        out += content.value_or("") + "<｜end▁of▁sentence｜>";
        ns.is_tool = false;
      } else {
        // Stored turns keep only what follows the first </think>: earlier reasoning is not replayed.
        std::string text = content.value_or("");
        const size_t end_think = text.find("</think>");
        if (end_think != std::string::npos) text = text.substr(end_think + 8);
        out += text + "<｜end▁of▁sentence｜>";
      }
    } else if (role == "tool") {
      ns.is_last_user = false;
      ns.is_tool = true;
      out += "<｜tool▁output▁begin｜>" + content.value_or("") + "<｜tool▁output▁end｜>";
    } else if (role != "system") {
      return Status::InvalidArgument(fmt::format("unknown role '{}'", role)).WithParam(fmt::format("messages[{}].role", i));
    }
    if (role != "system") ns.is_only_sys = false;
  }
  if (add_generation_prompt && !ns.is_tool && (ns.is_last_user || ns.is_only_sys || !ns.is_prefix))
    out += std::string("<｜Assistant｜>") + (thinking ? "<think>" : "</think>");
  return out;
}

}  // namespace sieve::text
