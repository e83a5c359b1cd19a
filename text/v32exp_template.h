// DeepSeek-V3.2-Exp's chat template (the Jinja `chat_template` of its tokenizer_config.json, identical to
// V3.1-Terminus), written out in C++: system prompts joined by "\n\n", <｜User｜>/<｜Assistant｜> turns,
// V3.1-style tool calls (<｜tool▁calls▁begin｜>…) and <｜tool▁output▁begin｜> results.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "core/status.h"

namespace sieve::text {

StatusOr<std::string> RenderV32ExpTemplate(const nlohmann::ordered_json& messages, bool add_generation_prompt,
                                           bool thinking);

}  // namespace sieve::text
