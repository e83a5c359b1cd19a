// Completions and chat request parsing: accepted shapes, and for each bad field the exact status code
// and `param` the client gets.
#include <gtest/gtest.h>

#include "server/chat_request.h"
#include "server/completion_request.h"
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

ServingLimits Limits(int64_t max_model_len = 64) {
  ServingLimits l;
  l.served_model_names = {"tiny", "alias"};
  l.tokenizer = &Tok();
  l.max_model_len = max_model_len;
  l.vocab_size = 129280;
  l.bos_token_id = 0;
  l.eos_token_id = 1;
  return l;
}

ChatSettings ToolSettings() {
  ChatSettings s;
  s.parse_reasoning = true;
  s.tool_call_format = text::ToolCallFormat::kDsml;
  s.enable_auto_tool_choice = true;
  return s;
}

Json J(const char* text) { return Json::parse(text); }

TEST(CompletionRequest, StringPromptGetsBosAndDefaults) {
  auto r = ParseCompletionRequest(J(R"({"model":"tiny","prompt":"Hello"})"), Limits());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->prompts.size(), 1u);
  EXPECT_EQ(r->prompts[0].ids.front(), 0);
  EXPECT_EQ(r->prompts[0].text, "Hello");
  EXPECT_EQ(r->params.max_tokens, 16);
  EXPECT_FALSE(r->stream);
  EXPECT_FALSE(r->params.logprobs.has_value());
}

// lm-eval's loglikelihood request: token-id lists, echo, logprobs 1, max_tokens 1; explicit nulls ignored.
TEST(CompletionRequest, LmEvalLoglikelihoodShape) {
  auto r = ParseCompletionRequest(
      J(R"({"model":"alias","prompt":[[5,6,7],[8,9]],"temperature":0,"max_tokens":1,"logprobs":1,"seed":1234,
            "echo":true,"stop":null,"top_p":null})"),
      Limits());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->prompts.size(), 2u);
  EXPECT_EQ(r->prompts[1].ids, (std::vector<int32_t>{8, 9}));
  EXPECT_TRUE(r->echo);
  EXPECT_EQ(r->params.logprobs, 1);
  EXPECT_EQ(r->params.prompt_logprobs, 1);
  EXPECT_EQ(r->params.seed, 1234u);
  EXPECT_EQ(r->params.temperature, 0.0);
}

TEST(CompletionRequest, StopStringOrListAndStreamOptions) {
  auto r = ParseCompletionRequest(
      J(R"({"prompt":["a","b"],"stop":["Question:","</s>"],"stream":true,"stream_options":{"include_usage":true},
            "ignore_eos":true,"top_k":5})"),
      Limits());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->params.stop, (std::vector<std::string>{"Question:", "</s>"}));
  EXPECT_TRUE(r->include_usage);
  EXPECT_TRUE(r->params.ignore_eos);
  EXPECT_EQ(r->params.top_k, 5);
}

struct BadCase {
  const char* body;
  StatusCode code;
  const char* param;
};

TEST(CompletionRequest, EachBadFieldNamesItsParam) {
  const BadCase cases[] = {
      {R"({"prompt":"x","model":"other"})", StatusCode::kNotFound, "model"},
      {R"({"model":"tiny"})", StatusCode::kInvalidArgument, "prompt"},
      {R"({"prompt":7})", StatusCode::kInvalidArgument, "prompt"},
      {R"({"prompt":["a",3]})", StatusCode::kInvalidArgument, "prompt[1]"},
      {R"({"prompt":[1,200000]})", StatusCode::kInvalidArgument, "prompt[1]"},
      {R"({"prompt":"x","max_tokens":"5"})", StatusCode::kInvalidArgument, "max_tokens"},
      {R"({"prompt":"x","max_tokens":0})", StatusCode::kInvalidArgument, "max_tokens"},
      {R"({"prompt":"x","max_tokens":1000})", StatusCode::kInvalidArgument, "max_tokens"},
      {R"({"prompt":"x","n":0})", StatusCode::kInvalidArgument, "n"},
      {R"({"prompt":"x","n":500})", StatusCode::kInvalidArgument, "n"},
      {R"({"prompt":"x","best_of":3})", StatusCode::kInvalidArgument, "best_of"},
      {R"({"prompt":"x","temperature":"hot"})", StatusCode::kInvalidArgument, "temperature"},
      {R"({"prompt":"x","stop":[1]})", StatusCode::kInvalidArgument, "stop[0]"},
      {R"({"prompt":"x","logprobs":21})", StatusCode::kInvalidArgument, "logprobs"},
      {R"({"prompt":"x","stream_options":{"include_usage":true}})", StatusCode::kInvalidArgument, "stream_options"},
      {R"({"prompt":"x","stream":"yes"})", StatusCode::kInvalidArgument, "stream"},
      {R"({"prompt":"x","logit_bias":{"abc":1}})", StatusCode::kInvalidArgument, "logit_bias"},
      {R"({"prompt":"x","suffix":"y"})", StatusCode::kInvalidArgument, "suffix"},
      {R"({"prompt":[[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32,
                    33,34,35,36,37,38,39,40,41,42,43,44,45,46,47,48,49,50,51,52,53,54,55,56,57,58,59,60,61,62,63,64]]})",
       StatusCode::kInvalidArgument, "prompt"},
  };
  for (const BadCase& c : cases) {
    auto r = ParseCompletionRequest(J(c.body), Limits());
    ASSERT_FALSE(r.ok()) << c.body;
    EXPECT_EQ(r.status().code(), c.code) << c.body << " -> " << r.status().ToString();
    EXPECT_EQ(r.status().param(), c.param) << c.body << " -> " << r.status().ToString();
  }
}

TEST(ChatRequest, MessagesEncodeAndMaxTokensDefaultsToTheRest) {
  auto r = ParseChatRequest(J(R"({"model":"tiny","messages":[{"role":"user","content":"Hi"}]})"), Limits(), {});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_GT(r->prompt_ids.size(), 2u);
  EXPECT_EQ(r->params.max_tokens, 64 - static_cast<int>(r->prompt_ids.size()));
  EXPECT_EQ(r->parser.tool_call_format, text::ToolCallFormat::kNone);
}

TEST(ChatRequest, ThinkingStartsInReasoningAndToolsTurnOnParsing) {
  auto r = ParseChatRequest(
      J(R"({"messages":[{"role":"user","content":[{"type":"text","text":"Hi"}]}],"max_completion_tokens":8,
            "chat_template_kwargs":{"thinking":true},"logprobs":true,"top_logprobs":2,
            "tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object"}}}]})"),
      Limits(1024), ToolSettings());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->parser.starts_in_thinking);
  EXPECT_EQ(r->parser.tool_call_format, text::ToolCallFormat::kDsml);
  EXPECT_EQ(r->params.max_tokens, 8);
  EXPECT_EQ(r->params.logprobs, 2);
  // Negative control: thinking off does not start in reasoning.
  auto off = ParseChatRequest(J(R"({"messages":[{"role":"user","content":"Hi"}],"max_tokens":8})"), Limits(), ToolSettings());
  ASSERT_TRUE(off.ok());
  EXPECT_FALSE(off->parser.starts_in_thinking);
}

TEST(ChatRequest, EachBadFieldNamesItsParam) {
  const BadCase cases[] = {
      {R"({"messages":"hi"})", StatusCode::kInvalidArgument, "messages"},
      {R"({"messages":[{"role":"wizard","content":"x"}]})", StatusCode::kInvalidArgument, "messages[0].role"},
      {R"({"messages":[{"role":"user","content":"x"}],"model":"nope"})", StatusCode::kNotFound, "model"},
      {R"({"messages":[{"role":"user","content":"x"}],"max_completion_tokens":100})", StatusCode::kInvalidArgument,
       "max_completion_tokens"},
      {R"({"messages":[{"role":"user","content":"x"}],"tools":[{"type":"function","function":{"name":"f"}}]})",
       StatusCode::kInvalidArgument, "messages"},  // the tool prompt alone exceeds the 64-token context
      {R"({"messages":[{"role":"user","content":"x"}],"top_logprobs":3})", StatusCode::kInvalidArgument, "top_logprobs"},
      {R"({"messages":[{"role":"user","content":"x"}],"tools":[{"type":"function","function":{"parameters":{}}}]})",
       StatusCode::kInvalidArgument, "tools[0].function.name"},
      {R"({"messages":[{"role":"user","content":"x"}],"tools":[{"type":"function","function":{"name":"f","parameters":3}}]})",
       StatusCode::kInvalidArgument, "tools[0].function.parameters"},
      {R"({"messages":[{"role":"user","content":"x"}],"tools":[{"type":"retrieval"}]})", StatusCode::kInvalidArgument,
       "tools[0].type"},
      {R"({"messages":[{"role":"user","content":"x"}],"tools":[{"type":"function","function":{"name":"f"}}],
           "tool_choice":{"type":"function","function":{"name":"g"}}})",
       StatusCode::kInvalidArgument, "tool_choice"},
      {R"({"messages":[{"role":"user","content":"x"}],"tool_choice":"sometimes"})", StatusCode::kInvalidArgument,
       "tool_choice"},
      {R"({"messages":[{"role":"user","content":"x"}],"response_format":{"type":"yaml"}})", StatusCode::kInvalidArgument,
       "response_format.type"},
      {R"({"messages":[{"role":"user","content":"x"}],"chat_template_kwargs":{"thinking":"yes"}})",
       StatusCode::kInvalidArgument, "chat_template_kwargs.thinking"},
  };
  for (const BadCase& c : cases) {
    auto r = ParseChatRequest(J(c.body), Limits(), ToolSettings());
    ASSERT_FALSE(r.ok()) << c.body;
    EXPECT_EQ(r.status().code(), c.code) << c.body << " -> " << r.status().ToString();
    EXPECT_EQ(r.status().param(), c.param) << c.body << " -> " << r.status().ToString();
  }
}

TEST(ChatRequest, AutoToolChoiceNeedsTheFlagAndSpecialeRefusesTools) {
  const Json body = J(R"({"messages":[{"role":"user","content":"x"}],"tools":[{"type":"function","function":{"name":"f"}}]})");
  ChatSettings no_auto = ToolSettings();
  no_auto.enable_auto_tool_choice = false;
  auto r = ParseChatRequest(body, Limits(1024), no_auto);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().param(), "tool_choice");
  ChatSettings speciale = ToolSettings();
  speciale.family = text::ChatFamily::kDeepseekV32Speciale;
  auto s = ParseChatRequest(body, Limits(1024), speciale);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().param(), "tools");
  EXPECT_TRUE(ParseChatRequest(body, Limits(1024), ToolSettings()).ok());  // control: same body is fine otherwise
}

}  // namespace
}  // namespace sieve::server
