// What the routes know about the model being served: its name, limits, tokenizer, chat family and the
// output parsers chosen on the command line. Built once by `sieve serve`; read-only afterwards.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "engine/request_validation.h"
#include "text/chat_encoding.h"
#include "text/output_parser.h"
#include "text/tokenizer.h"

namespace sieve::server {

struct ServingContext {
  std::string served_model_name;  // the `model` clients send; GET /v1/models data[0].id
  std::string model_dir;          // data[0].root; also accepted as `model`
  engine::RequestLimits limits;   // vocab_size, max_model_len, max_num_seqs
  int32_t bos_token_id = 0;
  int32_t eos_token_id = 1;
  std::shared_ptr<const text::Tokenizer> tokenizer;  // never null in a server
  text::ChatFamily chat_family = text::ChatFamily::kDeepseekV32;
  text::ToolCallFormat tool_call_format = text::ToolCallFormat::kNone;  // --tool-call-parser
  bool parse_reasoning = false;           // --reasoning-parser deepseek-v3
  bool enable_auto_tool_choice = false;   // --enable-auto-tool-choice
};

}  // namespace sieve::server
