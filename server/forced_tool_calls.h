// Forced tool choices (tool_choice named or "required"), as vLLM's serving_chat.py shapes them: the
// output is constrained to JSON (structured_output_schema.h) and the server turns that JSON content
// into tool calls. Named: the content is the function's arguments; the call carries the chosen name
// and finish_reason stays the engine's ("stop"). Required: the content is a list of
// {"name", "parameters"}; each becomes a call with the parameters as arguments (Python json.dumps
// text) and finish_reason "tool_calls" when the engine stopped normally.
#pragma once

#include <cstdint>
#include <random>
#include <string>

#include "text/output_parser.h"

namespace sieve::server {

enum class ForcedToolChoice { kNone, kNamed, kRequired };

class ForcedToolCalls {
 public:
  // `id_seed` as text::OutputParserOptions::tool_call_id_seed (0: random).
  ForcedToolCalls(ForcedToolChoice choice, std::string name, uint64_t id_seed);

  // One parser delta, rewritten: named: content becomes argument fragments of call 0 (streamed as it
  // comes); required: content is held until Finish. Reasoning passes through.
  text::MessageDelta Rewrite(text::MessageDelta delta);
  // Required: the held list as complete calls; if it is not a complete list (max_tokens cut it), the
  // held text is returned as content instead. Named: nothing.
  text::MessageDelta Finish();
  std::string FinishReason(const std::string& engine_reason) const;

 private:
  std::string NewId();

  ForcedToolChoice choice_;
  std::string name_;
  std::mt19937_64 id_rng_;
  bool started_ = false;  // named: call 0 was opened
  std::string held_;      // required: the content so far
};

}  // namespace sieve::server
