// Field access on OpenAI chat messages with precise error parameters.
#include "text/chat_messages.h"

#include <fmt/format.h>

namespace sieve::text {

StatusOr<std::string> MessageRole(const nlohmann::ordered_json& message, size_t index) {
  if (!message.is_object())
    return Status::InvalidArgument("each message must be an object").WithParam(fmt::format("messages[{}]", index));
  const auto it = message.find("role");
  if (it == message.end() || !it->is_string())
    return Status::InvalidArgument("message has no string 'role'").WithParam(fmt::format("messages[{}].role", index));
  return it->get<std::string>();
}

StatusOr<std::optional<std::string>> MessageContent(const nlohmann::ordered_json& message, size_t index) {
  const auto it = message.find("content");
  if (it == message.end() || it->is_null()) return std::optional<std::string>();
  if (it->is_string()) return std::optional<std::string>(it->get<std::string>());
  if (!it->is_array())
    return Status::InvalidArgument("content must be a string or a list of content parts")
        .WithParam(fmt::format("messages[{}].content", index));
  std::string text;
  for (size_t j = 0; j < it->size(); ++j) {
    const auto& part = (*it)[j];
    if (!part.is_object() || part.value("type", "") != "text" || !part.contains("text") || !part["text"].is_string())
      return Status::InvalidArgument("only text content parts ({\"type\": \"text\", \"text\": ...}) are supported")
          .WithParam(fmt::format("messages[{}].content[{}]", index, j));
    if (j > 0) text += "\n";
    text += part["text"].get<std::string>();
  }
  return std::optional<std::string>(std::move(text));
}

StatusOr<std::optional<std::string>> MessageString(const nlohmann::ordered_json& message, size_t index,
                                                   const char* field) {
  const auto it = message.find(field);
  if (it == message.end() || it->is_null()) return std::optional<std::string>();
  if (!it->is_string())
    return Status::InvalidArgument(fmt::format("'{}' must be a string", field))
        .WithParam(fmt::format("messages[{}].{}", index, field));
  return std::optional<std::string>(it->get<std::string>());
}

}  // namespace sieve::text
