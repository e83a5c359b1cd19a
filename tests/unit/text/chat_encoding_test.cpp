// Chat encoding golden tests: every row of encode_dsv32.jsonl (reference encoder, incl. its error rows)
// and encode_v32exp.jsonl (the V3.2-Exp Jinja template) must match exactly, as text and as token ids.
#include "text/chat_encoding.h"

#include <gtest/gtest.h>

#include "tests/unit/text/text_fixtures.h"
#include "text/dsv32_encoding.h"
#include "text/v32exp_template.h"

namespace sieve::text {
namespace {

using Json = nlohmann::ordered_json;
using testing::FixtureTokenizer;

std::vector<Json> ReadOrderedJsonl(const std::string& path) {
  std::vector<Json> rows;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line))
    if (!line.empty()) rows.push_back(Json::parse(line));
  return rows;
}

#define SKIP_WITHOUT_FIXTURES()                                 \
  const auto chat_dir = test::SharedFixture("chat");            \
  const Tokenizer* tok = FixtureTokenizer();                    \
  if (!chat_dir || tok == nullptr) GTEST_SKIP() << "../shared/fixtures/{chat,tokenizer} not present; golden test skipped"

TEST(ChatEncodingGolden, EveryDsv32RowMatchesTheReferenceEncoder) {
  SKIP_WITHOUT_FIXTURES();
  const auto rows = ReadOrderedJsonl(*chat_dir + "/encode_dsv32.jsonl");
  ASSERT_EQ(rows.size(), 49u);
  int prompts = 0, errors = 0;
  for (const Json& row : rows) {
    SCOPED_TRACE(row["name"].get<std::string>());
    const std::string mode = row["thinking_mode"].get<std::string>();
    Dsv32EncodeInput input;
    input.messages = &row["messages"];
    input.context = row.contains("context") ? &row["context"] : nullptr;
    input.thinking_mode = mode;
    input.add_default_bos_token = row.value("add_default_bos_token", true);
    const auto got = EncodeDsv32Messages(input);
    if (row.contains("error")) {
      // Where the reference raises, Sieve answers InvalidArgument (a 400 at the server).
      EXPECT_EQ(got.status().code(), StatusCode::kInvalidArgument) << row["error"].dump();
      errors += got.status().code() == StatusCode::kInvalidArgument;
      continue;
    }
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    EXPECT_EQ(*got, row["prompt"].get<std::string>());
    EXPECT_EQ(tok->Encode(*got), row["ids"].get<std::vector<int32_t>>());
    prompts += *got == row["prompt"].get<std::string>();
  }
  EXPECT_EQ(prompts, 40);
  EXPECT_EQ(errors, 9);
}

TEST(ChatEncodingGolden, EveryV32ExpRowMatchesTheTemplate) {
  SKIP_WITHOUT_FIXTURES();
  const auto rows = ReadOrderedJsonl(*chat_dir + "/encode_v32exp.jsonl");
  ASSERT_EQ(rows.size(), 23u);
  int passed = 0;
  for (const Json& row : rows) {
    SCOPED_TRACE(row["name"].get<std::string>());
    const auto got = RenderV32ExpTemplate(row["messages"], row["add_generation_prompt"].get<bool>(),
                                          row.value("thinking", false));
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    EXPECT_EQ(*got, row["prompt"].get<std::string>());
    EXPECT_EQ(tok->Encode(*got), row["ids"].get<std::vector<int32_t>>());
    passed += *got == row["prompt"].get<std::string>();
  }
  EXPECT_EQ(passed, 23);
}

// Negative control: the thinking flag and the tool placement change the prompt.
TEST(ChatEncoding, ThinkingFlagChangesThePrompt) {
  const Json request = Json::parse(R"({"messages": [{"role": "user", "content": "Hello!"}]})");
  auto off = EncodeChat(request, ChatFamily::kDeepseekV32, {});
  ASSERT_TRUE(off.ok());
  EXPECT_EQ(off->text, "<｜begin▁of▁sentence｜><｜User｜>Hello!<｜Assistant｜></think>");
  EXPECT_FALSE(off->starts_in_thinking);
  for (const char* key : {"thinking", "enable_thinking"}) {
    Json on = request;
    on["chat_template_kwargs"][key] = true;
    auto got = EncodeChat(on, ChatFamily::kDeepseekV32, {});
    ASSERT_TRUE(got.ok());
    EXPECT_EQ(got->text, "<｜begin▁of▁sentence｜><｜User｜>Hello!<｜Assistant｜><think>");
    EXPECT_TRUE(got->starts_in_thinking);
    auto exp = EncodeChat(on, ChatFamily::kDeepseekV32Exp, {});
    ASSERT_TRUE(exp.ok());
    EXPECT_TRUE(exp->starts_in_thinking);
  }
}

// Request-level tools render as a content-less system message (the fixture row
// tools_system_without_content), as vLLM's deepseek_v32 tokenizer does.
TEST(ChatEncoding, RequestToolsMatchTheSystemMessageForm) {
  SKIP_WITHOUT_FIXTURES();
  for (const Json& row : ReadOrderedJsonl(*chat_dir + "/encode_dsv32.jsonl")) {
    if (row["name"] != "tools_system_without_content") continue;
    Json request = {{"messages", Json::array({row["messages"][1]})}, {"tools", row["messages"][0]["tools"]}};
    auto got = EncodeChat(request, ChatFamily::kDeepseekV32, {});
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    EXPECT_EQ(got->text, row["prompt"].get<std::string>());
    return;
  }
  FAIL() << "row tools_system_without_content missing";
}

TEST(ChatEncoding, SpecialeRejectsToolsAndThinksByDefault) {
  Json request = Json::parse(R"({"messages": [{"role": "user", "content": "hi"}],
      "tools": [{"type": "function", "function": {"name": "f", "parameters": {}}}]})");
  auto with_tools = EncodeChat(request, ChatFamily::kDeepseekV32Speciale, {});
  EXPECT_EQ(with_tools.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(with_tools.status().param(), "tools");
  request.erase("tools");
  auto plain = EncodeChat(request, ChatFamily::kDeepseekV32Speciale, {});
  ASSERT_TRUE(plain.ok());
  EXPECT_TRUE(plain->starts_in_thinking);
}

TEST(ChatEncoding, ErrorsNameTheField) {
  struct Case {
    const char* body;
    const char* param;
  };
  for (const Case& c : {
           Case{R"({"messages": []})", "messages"},
           Case{R"({"messages": [{"role": "user", "content": "x"}, {"role": "robot", "content": "y"}]})",
                "messages[1].role"},
           Case{R"({"messages": [{"content": "x"}]})", "messages[0].role"},
           Case{R"({"messages": [{"role": "user", "content": [{"type": "image_url"}]}]})", "messages[0].content[0]"},
           Case{R"({"messages": [{"role": "user", "content": "x"}], "chat_template_kwargs": {"thinking": "yes"}})",
                "chat_template_kwargs.thinking"},
           Case{R"({"messages": [{"role": "user", "content": "x"}, {"role": "assistant", "tool_calls":
                [{"type": "function", "function": {"name": "f", "arguments": "not json"}}]}]})",
                "messages[1].tool_calls[0].function.arguments"},
           Case{R"({"messages": [{"role": "tool", "content": "x"}]})", "messages[0]"},
       }) {
    auto got = EncodeChat(Json::parse(c.body), ChatFamily::kDeepseekV32, {});
    EXPECT_EQ(got.status().code(), StatusCode::kInvalidArgument) << c.body;
    EXPECT_EQ(got.status().param(), c.param) << c.body;
  }
}

TEST(ChatEncoding, TokenizerModeAndFamilyDetection) {
  EXPECT_EQ(*ChatFamilyFromTokenizerMode("deepseek_v32"), ChatFamily::kDeepseekV32);
  EXPECT_EQ(*ChatFamilyFromTokenizerMode("auto"), std::nullopt);
  EXPECT_FALSE(ChatFamilyFromTokenizerMode("llama").ok());
  test::TempDir dir;
  EXPECT_EQ(DetectChatFamily(dir.path(), dir.path()), ChatFamily::kDeepseekV32);
  EXPECT_EQ(DetectChatFamily("/models/DeepSeek-V3.2-Speciale/", dir.path()), ChatFamily::kDeepseekV32Speciale);
  std::ofstream(dir.path() + "/tokenizer_config.json") << R"({"chat_template": "{{ bos_token }}"})";
  EXPECT_EQ(DetectChatFamily(dir.path(), dir.path()), ChatFamily::kDeepseekV32Exp);
}

}  // namespace
}  // namespace sieve::text
