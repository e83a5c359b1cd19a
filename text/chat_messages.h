// Reading OpenAI chat messages (`messages[i]` of a request) for the chat encoders: role and text content
// with the request path of each field, so a bad field becomes InvalidArgument with `param` set.
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "core/status.h"

namespace sieve::text {

// The role string of messages[index]; InvalidArgument if the message is not an object with a string role.
StatusOr<std::string> MessageRole(const nlohmann::ordered_json& message, size_t index);

// The text of messages[index].content: nullopt when absent or null; a list of content parts is joined
// with "\n" as vLLM does for text-only parts. Non-text parts are InvalidArgument.
StatusOr<std::optional<std::string>> MessageContent(const nlohmann::ordered_json& message, size_t index);

// Same for a string field such as `reasoning_content` (nullopt when absent or null).
StatusOr<std::optional<std::string>> MessageString(const nlohmann::ordered_json& message, size_t index,
                                                   const char* field);

}  // namespace sieve::text
