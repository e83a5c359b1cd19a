// POST /v1/chat/completions request -> one engine request plus how to read its output: the chat
// encoding of messages/tools (text::EncodeChat), tool_choice, response_format, logprobs and the output
// parser options (reasoning, tool-call format, whether generation starts inside <think>).
#pragma once

#include <string>

#include "engine/engine.h"
#include "server/completion_request.h"
#include "server/json_fields.h"
#include "server/serving_context.h"
#include "text/output_parser.h"

namespace sieve::server {

struct ChatRequest {
  engine::GenerationRequest request;
  text::OutputParserOptions parser;
  bool logprobs = false;  // choices[].logprobs.content
  StreamOptions stream;
};

StatusOr<ChatRequest> ParseChatRequest(const Json& body, const std::string& request_id, const ServingContext& context);

}  // namespace sieve::server
