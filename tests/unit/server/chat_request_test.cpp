// /v1/chat/completions request parsing: encoding, thinking, tools/tool_choice, response_format and the
// exact param of each bad field.
#include "server/chat_request.h"

#include <gtest/gtest.h>

#include "tests/unit/server/server_test_support.h"

namespace sieve::server {
namespace {

constexpr const char* kTool =
    R"({"type": "function", "function": {"name": "get_weather", "description": "Weather of a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}})";

StatusOr<ChatRequest> Parse(const std::string& body, const ServingContext& context = test_support::TestContext()) {
  return ParseChatRequest(Json::parse(body), "chatcmpl-1", context);
}

std::pair<StatusCode, std::string> Failure(const std::string& body,
                                           const ServingContext& context = test_support::TestContext()) {
  const StatusOr<ChatRequest> r = Parse(body, context);
  EXPECT_FALSE(r.ok()) << body;
  return {r.status().code(), r.status().param()};
}

std::string PromptText(const ChatRequest& r) { return test_support::VendoredTokenizer()->Decode(r.request.prompt_ids, false); }

TEST(ChatRequest, EncodesMessagesAndStartsInThinkingOnlyWhenAsked) {
  if (!test_support::VendoredTokenizer()) GTEST_SKIP() << "assets/tokenizer missing";
  const auto plain = Parse(R"({"model": "tiny", "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 4})");
  ASSERT_TRUE(plain.ok()) << plain.status().ToString();
  EXPECT_EQ(plain->request.prompt_ids.front(), 0);  // BOS from the encoding, not added twice
  EXPECT_NE(plain->request.prompt_ids[1], 0);
  EXPECT_FALSE(plain->parser.starts_in_thinking);
  EXPECT_TRUE(plain->parser.parse_reasoning);
  EXPECT_EQ(plain->parser.tool_call_format, text::ToolCallFormat::kNone);
  EXPECT_EQ(plain->request.params.max_tokens, 4);
  const auto thinking = Parse(R"({"messages": [{"role": "user", "content": "Hi"}],
                                  "chat_template_kwargs": {"thinking": true}})");
  ASSERT_TRUE(thinking.ok());
  EXPECT_TRUE(thinking->parser.starts_in_thinking);
  // Default budget: what is left of the context.
  EXPECT_EQ(thinking->request.params.max_tokens, test_support::kMaxModelLen - static_cast<int64_t>(thinking->request.prompt_ids.size()));
}

TEST(ChatRequest, MaxCompletionTokensWinsOverMaxTokens) {
  if (!test_support::VendoredTokenizer()) GTEST_SKIP() << "assets/tokenizer missing";
  const auto r = Parse(R"({"messages": [{"role": "user", "content": "Hi"}], "max_tokens": 9, "max_completion_tokens": 3})");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->request.params.max_tokens, 3);
}

TEST(ChatRequest, ToolsAreEncodedAndParsedWithAuto) {
  if (!test_support::VendoredTokenizer()) GTEST_SKIP() << "assets/tokenizer missing";
  const std::string body = std::string(R"({"messages": [{"role": "user", "content": "Weather in Paris?"}], "tools": [)") + kTool + "]}";
  const auto r = Parse(body);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->parser.tool_call_format, text::ToolCallFormat::kDsml);
  EXPECT_NE(PromptText(*r).find("get_weather"), std::string::npos);
  // tool_choice none: the tools are not shown and the output is not parsed for calls.
  const std::string none = std::string(R"({"messages": [{"role": "user", "content": "Hi"}], "tool_choice": "none", "tools": [)") + kTool + "]}";
  const auto n = Parse(none);
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_EQ(n->parser.tool_call_format, text::ToolCallFormat::kNone);
  EXPECT_EQ(PromptText(*n).find("get_weather"), std::string::npos);
}

TEST(ChatRequest, ToolResultsAndReasoningAliasInMessages) {
  if (!test_support::VendoredTokenizer()) GTEST_SKIP() << "assets/tokenizer missing";
  const std::string body = std::string(R"({"messages": [
      {"role": "user", "content": "Weather in Paris?"},
      {"role": "assistant", "content": null, "reasoning": "Need the tool.",
       "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\": \"Paris\"}"}}]},
      {"role": "tool", "tool_call_id": "call_1", "content": "22C and sunny"}],
    "tools": [)") + kTool + "]}";
  const auto r = Parse(body);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const std::string text = PromptText(*r);
  EXPECT_NE(text.find("22C and sunny"), std::string::npos);
  EXPECT_NE(text.find("Paris"), std::string::npos);
}

TEST(ChatRequest, EachBadFieldIsNamed) {
  if (!test_support::VendoredTokenizer()) GTEST_SKIP() << "assets/tokenizer missing";
  using P = std::pair<StatusCode, std::string>;
  const StatusCode bad = StatusCode::kInvalidArgument;
  const std::string msgs = R"("messages": [{"role": "user", "content": "Hi"}])";
  auto body = [&](const std::string& rest) { return "{" + msgs + (rest.empty() ? "" : ", " + rest) + "}"; };
  EXPECT_EQ(Failure(R"({"model": "tiny"})"), P(bad, "messages"));
  EXPECT_EQ(Failure(R"({"messages": []})"), P(bad, "messages"));
  EXPECT_EQ(Failure(R"({"messages": [{"role": "wizard", "content": "Hi"}]})"), P(bad, "messages[0].role"));
  EXPECT_EQ(Failure(body(R"("model": "other")")), P(StatusCode::kNotFound, "model"));
  EXPECT_EQ(Failure(body(R"("max_tokens": 100000)")), P(bad, "max_tokens"));
  EXPECT_EQ(Failure(body(R"("max_completion_tokens": 100000)")), P(bad, "max_completion_tokens"));
  EXPECT_EQ(Failure(body(R"("n": 100)")), P(bad, "n"));
  EXPECT_EQ(Failure(body(R"("top_logprobs": 2)")), P(bad, "top_logprobs"));
  EXPECT_EQ(Failure(body(R"("logprobs": true, "top_logprobs": 21)")), P(bad, "top_logprobs"));
  EXPECT_EQ(Failure(body(R"("response_format": {"type": "json_schema", "json_schema": {}})")), P(bad, "response_format.type"));
  EXPECT_EQ(Failure(body(R"("tools": {"a": 1})")), P(bad, "tools"));
  EXPECT_EQ(Failure(body(R"("tools": [{"type": "function", "function": {"name": "bad name"}}])")),
            P(bad, "tools[0].function.name"));
  EXPECT_EQ(Failure(body(R"("tools": [{"type": "retrieval"}])")), P(bad, "tools[0].type"));
  EXPECT_EQ(Failure(body(R"("tools": [{"type": "function", "function": {"name": "f", "parameters": "x"}}])")),
            P(bad, "tools[0].function.parameters"));
  EXPECT_EQ(Failure(body(std::string(R"("tool_choice": {"type": "function", "function": {"name": "nope"}}, "tools": [)") + kTool + "]")),
            P(bad, "tool_choice"));
  EXPECT_EQ(Failure(body(R"("tool_choice": "required")")), P(bad, "tool_choice"));
  EXPECT_EQ(Failure(body(R"("tool_choice": "sometimes")")), P(bad, "tool_choice"));
  // Tools need --enable-auto-tool-choice for "auto" (vLLM's rule) ...
  EXPECT_EQ(Failure(body(std::string(R"("tools": [)") + kTool + "]"), test_support::TestContext(text::ToolCallFormat::kDsml, false)),
            P(bad, "tool_choice"));
  // ... and are refused outright by Speciale.
  ServingContext speciale = test_support::TestContext();
  speciale.chat_family = text::ChatFamily::kDeepseekV32Speciale;
  EXPECT_EQ(Failure(body(std::string(R"("tools": [)") + kTool + "]"), speciale), P(bad, "tools"));
  EXPECT_EQ(Failure(body(R"("stream": "yes")")), P(bad, "stream"));
}

TEST(ChatRequest, NamedToolChoiceShowsOnlyThatTool) {
  if (!test_support::VendoredTokenizer()) GTEST_SKIP() << "assets/tokenizer missing";
  const std::string other = R"({"type": "function", "function": {"name": "get_time", "parameters": {"type": "object"}}})";
  const std::string body = std::string(R"({"messages": [{"role": "user", "content": "Hi"}],
      "tool_choice": {"type": "function", "function": {"name": "get_weather"}}, "tools": [)") + other + "," + kTool + "]}";
  const auto r = Parse(body);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const std::string text = PromptText(*r);
  EXPECT_NE(text.find("get_weather"), std::string::npos);
  EXPECT_EQ(text.find("get_time"), std::string::npos);
}

}  // namespace
}  // namespace sieve::server
