// Shared by the server unit tests: a ServingContext over the vendored DeepSeek-V3.2 tokenizer
// (assets/tokenizer), with small limits so range errors are easy to reach.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "server/serving_context.h"
#include "text/tokenizer.h"

namespace sieve::server::test_support {

// Room for the V3.2 tool-calling system prompt (~300 tokens) plus a short conversation.
inline constexpr int64_t kMaxModelLen = 1024;

inline std::shared_ptr<const text::Tokenizer> VendoredTokenizer() {
  static std::shared_ptr<const text::Tokenizer> tokenizer = [] {
    auto t = text::Tokenizer::Load(std::string(SIEVE_SOURCE_DIR) + "/assets/tokenizer/tokenizer.json");
    return t.ok() ? std::shared_ptr<const text::Tokenizer>(std::move(t).value()) : nullptr;
  }();
  return tokenizer;
}

inline ServingContext TestContext(text::ToolCallFormat tools = text::ToolCallFormat::kDsml, bool auto_tools = true) {
  ServingContext c;
  c.served_model_name = "tiny";
  c.model_dir = "/models/tiny";
  c.limits = {.vocab_size = 129280, .max_model_len = kMaxModelLen, .max_num_seqs = 8, .has_tokenizer = true};
  c.bos_token_id = 0;
  c.eos_token_id = 1;
  c.tokenizer = VendoredTokenizer();
  c.chat_family = text::ChatFamily::kDeepseekV32;
  c.tool_call_format = tools;
  c.parse_reasoning = true;
  c.enable_auto_tool_choice = auto_tools;
  return c;
}

}  // namespace sieve::server::test_support
