// Structured outputs in chat requests: response_format and forced tool choices become the grammar the
// engine enforces (checked by running documents through it), errors name their param, thinking mode
// defers the grammar to "</think>", and ForcedToolCalls shapes content into tool calls as vLLM does.
#include <gtest/gtest.h>

#include "server/chat_request.h"
#include "server/forced_tool_calls.h"
#include "text/json_recognizer.h"
#include "text/python_json.h"
#include "text/tokenizer.h"

namespace sieve::server {
namespace {

const text::Tokenizer& Tok() {
  static std::unique_ptr<text::Tokenizer> t = [] {
    auto loaded = text::Tokenizer::LoadFromDir(std::string(SIEVE_SOURCE_DIR) + "/assets/tokenizer");
    EXPECT_TRUE(loaded.ok()) << loaded.status().ToString();
    return loaded.ok() ? std::move(loaded).value() : nullptr;
  }();
  return *t;
}

ServingLimits Limits() {
  ServingLimits l;
  l.served_model_names = {"tiny"};
  l.tokenizer = &Tok();
  l.max_model_len = 4096;
  l.vocab_size = 129280;
  l.bos_token_id = 0;
  l.eos_token_id = 1;
  return l;
}

StatusOr<ChatRequest> Parse(const std::string& extra) {
  const std::string body = R"({"messages":[{"role":"user","content":"x"}],"max_tokens":8)" + extra + "}";
  return ParseChatRequest(Json::parse(body), Limits(), ChatSettings{});
}

bool Accepts(const ChatRequest& r, std::string_view doc) {
  if (!r.params.json_grammar) return false;
  text::JsonRecognizer rec(r.params.json_grammar);
  return rec.Feed(doc) && rec.IsComplete();
}

constexpr const char* kTools =
    R"(,"tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object",
        "properties":{"city":{"type":"string"}},"required":["city"]}}},
      {"type":"function","function":{"name":"now"}}])";

TEST(StructuredOutput, ResponseFormats) {
  auto text = Parse(R"(,"response_format":{"type":"text"})");
  ASSERT_TRUE(text.ok()) << text.status().ToString();
  EXPECT_EQ(text->params.json_grammar, nullptr);
  auto object = Parse(R"(,"response_format":{"type":"json_object"})");
  ASSERT_TRUE(object.ok());
  EXPECT_TRUE(Accepts(*object, R"({"any": [1, {"x": null}]})"));
  EXPECT_FALSE(Accepts(*object, "[1]"));
  auto schema = Parse(R"(,"response_format":{"type":"json_schema","json_schema":{"name":"r","strict":true,
      "schema":{"type":"object","properties":{"ok":{"type":"boolean"}},"required":["ok"]}}})");
  ASSERT_TRUE(schema.ok()) << schema.status().ToString();
  EXPECT_TRUE(Accepts(*schema, R"({"ok": true})"));
  EXPECT_FALSE(Accepts(*schema, R"({"ok": 1})"));
  EXPECT_FALSE(schema->params.grammar_after_token_id.has_value());
  EXPECT_EQ(schema->forced_tool_choice, ForcedToolChoice::kNone);
}

TEST(StructuredOutput, BadFormatsNameTheirParam) {
  const std::pair<const char*, const char*> cases[] = {
      {R"(,"response_format":{"type":"xml"})", "response_format.type"},
      {R"(,"response_format":{"type":"json_schema"})", "response_format.json_schema"},
      {R"(,"response_format":{"type":"json_schema","json_schema":{"name":"r"}})", "response_format.json_schema.schema"},
      {R"(,"response_format":{"type":"json_schema","json_schema":{"schema":{"type":"string","pattern":"a+"}}})",
       "response_format.json_schema.schema"},
      {R"(,"tool_choice":"required","tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object",
          "properties":{"a":{"$ref":"#/$defs/A"}}}}}])", "tools[0].function.parameters"},
  };
  for (const auto& [extra, param] : cases) {
    auto r = Parse(extra);
    ASSERT_FALSE(r.ok()) << extra;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(r.status().param(), param) << r.status().ToString();
  }
  auto pattern = Parse(cases[3].first);
  EXPECT_NE(pattern.status().message().find("pattern"), std::string::npos) << pattern.status().ToString();
}

TEST(StructuredOutput, NamedToolChoiceForcesItsParameters) {
  auto r = Parse(std::string(kTools) + R"(,"tool_choice":{"type":"function","function":{"name":"get_weather"}})");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->forced_tool_choice, ForcedToolChoice::kNamed);
  EXPECT_EQ(r->forced_tool_name, "get_weather");
  EXPECT_TRUE(Accepts(*r, R"({"city": "Paris"})"));
  EXPECT_FALSE(Accepts(*r, R"({})"));
  EXPECT_EQ(r->parser.tool_call_format, text::ToolCallFormat::kNone) << "no DSML parsing: the content is the arguments";
  // A tool without parameters: only the empty object.
  auto now = Parse(std::string(kTools) + R"(,"tool_choice":{"type":"function","function":{"name":"now"}})");
  ASSERT_TRUE(now.ok());
  EXPECT_TRUE(Accepts(*now, "{}"));
  EXPECT_FALSE(Accepts(*now, R"({"city": "Paris"})"));
}

TEST(StructuredOutput, RequiredToolChoiceForcesAListOfCalls) {
  auto r = Parse(std::string(kTools) + R"(,"tool_choice":"required","response_format":{"type":"json_object"})");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->forced_tool_choice, ForcedToolChoice::kRequired);
  EXPECT_TRUE(Accepts(*r, R"([{"name": "get_weather", "parameters": {"city": "Oslo"}}, {"name": "now", "parameters": {}}])"));
  EXPECT_FALSE(Accepts(*r, "[]"));
  EXPECT_FALSE(Accepts(*r, R"([{"name": "now", "parameters": {"city": "Oslo"}}])"));
  EXPECT_FALSE(Accepts(*r, R"({"city": "Oslo"})")) << "the tool choice wins over response_format";
  auto single = Parse(std::string(kTools) + R"(,"tool_choice":"required","parallel_tool_calls":false)");
  ASSERT_TRUE(single.ok()) << single.status().message();
  EXPECT_TRUE(Accepts(*single, R"([{"name": "now", "parameters": {}}])"));
  EXPECT_FALSE(Accepts(*single, R"([{"name": "now", "parameters": {}}, {"name": "now", "parameters": {}}])"));
}

TEST(StructuredOutput, ThinkingDefersTheGrammarToEndOfReasoning) {
  auto thinking = Parse(R"(,"chat_template_kwargs":{"thinking":true},"response_format":{"type":"json_object"})");
  ASSERT_TRUE(thinking.ok()) << thinking.status().ToString();
  ASSERT_TRUE(thinking->params.grammar_after_token_id.has_value());
  EXPECT_EQ(thinking->params.grammar_after_token_id, Tok().TokenToId("</think>"));
  auto plain = Parse(R"(,"response_format":{"type":"json_object"})");
  ASSERT_TRUE(plain.ok());
  EXPECT_FALSE(plain->params.grammar_after_token_id.has_value());
}

text::MessageDelta Content(const std::string& s) {
  text::MessageDelta d;
  d.content = s;
  return d;
}

TEST(ForcedToolCallsTest, NamedStreamsArgumentsUnderOneCall) {
  ForcedToolCalls f(ForcedToolChoice::kNamed, "get_weather", 7);
  text::ParsedMessage m;
  for (const char* piece : {"{\"city\"", ": \"Par", "is\"}"}) text::AccumulateDelta(f.Rewrite(Content(piece)), &m);
  text::AccumulateDelta(f.Finish(), &m);
  EXPECT_TRUE(m.content.empty());
  ASSERT_EQ(m.tool_calls.size(), 1u);
  EXPECT_EQ(m.tool_calls[0].name, "get_weather");
  EXPECT_EQ(m.tool_calls[0].arguments, R"({"city": "Paris"})");
  EXPECT_EQ(m.tool_calls[0].id.rfind("chatcmpl-tool-", 0), 0u);
  EXPECT_EQ(f.FinishReason("stop"), "stop");
}

TEST(ForcedToolCallsTest, RequiredTurnsTheListIntoCalls) {
  ForcedToolCalls f(ForcedToolChoice::kRequired, "", 7);
  text::ParsedMessage m;
  text::AccumulateDelta(f.Rewrite(Content(R"([{"name": "get_weather", "parameters": {"city":"Oslo"}},)")), &m);
  EXPECT_TRUE(m.tool_calls.empty()) << "held until the list is complete";
  text::AccumulateDelta(f.Rewrite(Content(R"({"name": "now", "parameters": {}}])")), &m);
  text::AccumulateDelta(f.Finish(), &m);
  ASSERT_EQ(m.tool_calls.size(), 2u);
  EXPECT_EQ(m.tool_calls[0].name, "get_weather");
  EXPECT_EQ(m.tool_calls[0].arguments, R"({"city": "Oslo"})") << "Python json.dumps text, as vLLM";
  EXPECT_EQ(m.tool_calls[1].name, "now");
  EXPECT_NE(m.tool_calls[0].id, m.tool_calls[1].id);
  EXPECT_EQ(f.FinishReason("stop"), "tool_calls");
  EXPECT_EQ(f.FinishReason("length"), "length");
  // Cut by max_tokens: no calls, the text stays content.
  ForcedToolCalls cut(ForcedToolChoice::kRequired, "", 7);
  text::ParsedMessage partial;
  text::AccumulateDelta(cut.Rewrite(Content(R"([{"name": "now", "param)")), &partial);
  text::AccumulateDelta(cut.Finish(), &partial);
  EXPECT_TRUE(partial.tool_calls.empty());
  EXPECT_EQ(partial.content, R"([{"name": "now", "param)");
}

}  // namespace
}  // namespace sieve::server
