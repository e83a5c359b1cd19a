// The text subcommands of the `sieve` binary: tokenize, detokenize, chat-encode, parse. Each runs the real
// binary on the vendored tokenizer in assets/tokenizer.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "tests/test_support.h"

namespace sieve {
namespace {

const std::string kAssets = std::string(SIEVE_SOURCE_DIR) + "/assets/tokenizer";

// Runs `sieve ARGS` with `input` on stdin; returns the exit code, output in *out.
int Sieve(const std::string& args, const std::string& input, std::string* out) {
  test::TempDir dir;
  const std::string in_path = dir.path() + "/stdin";
  std::ofstream(in_path, std::ios::binary) << input;
  return test::RunCommand(test::SieveBinary() + " " + args + " < " + in_path, out);
}

TEST(CliTokenize, PrintsIdsAndRoundTripsThroughDetokenize) {
  std::string out;
  ASSERT_EQ(Sieve("tokenize --model " + kAssets, "Hello world", &out), 0) << out;
  EXPECT_EQ(out, "[19923,2058]\n");
  ASSERT_EQ(Sieve("tokenize --model " + kAssets, "Hello  world", &out), 0);
  EXPECT_NE(out, "[19923,2058]\n");  // negative control
  ASSERT_EQ(Sieve("tokenize --add-special-tokens --model " + kAssets, "Hello world", &out), 0);
  EXPECT_EQ(out, "[0,19923,2058]\n");
  ASSERT_EQ(Sieve("detokenize --model " + kAssets, "[0, 19923, 2058]", &out), 0) << out;
  EXPECT_EQ(out, "<｜begin▁of▁sentence｜>Hello world");
  ASSERT_EQ(Sieve("detokenize --skip-special-tokens --model " + kAssets, "[0, 19923, 2058]", &out), 0);
  EXPECT_EQ(out, "Hello world");
}

TEST(CliTokenize, ErrorsAreOneLineWithExitCodes) {
  std::string out;
  EXPECT_EQ(Sieve("detokenize --model " + kAssets, "[1, \"two\"]", &out), 1);
  EXPECT_NE(out.find("JSON array of integer token ids"), std::string::npos) << out;
  // A checkpoint folder without tokenizer files gets a clear message, not a crash.
  test::TempDir empty;
  EXPECT_EQ(Sieve("tokenize --model " + empty.path(), "x", &out), 1);
  EXPECT_NE(out.find("has no tokenizer.json"), std::string::npos) << out;
  EXPECT_EQ(Sieve("tokenize --model " + empty.path() + " --tokenizer " + kAssets, "x", &out), 0) << out;
  EXPECT_EQ(Sieve("tokenize", "x", &out), 2);  // usage: --model is required
}

TEST(CliChatEncode, PrintsThePromptAndHonoursThinking) {
  std::string out;
  const std::string request = R"({"messages": [{"role": "user", "content": "Hello!"}]})";
  ASSERT_EQ(Sieve("chat-encode --model " + kAssets, request, &out), 0) << out;
  EXPECT_EQ(out, "<｜begin▁of▁sentence｜><｜User｜>Hello!<｜Assistant｜></think>");
  ASSERT_EQ(Sieve("chat-encode --thinking --model " + kAssets, request, &out), 0) << out;
  EXPECT_EQ(out, "<｜begin▁of▁sentence｜><｜User｜>Hello!<｜Assistant｜><think>");
  EXPECT_EQ(Sieve("chat-encode --model " + kAssets, R"({"messages": [{"role": "robot", "content": "x"}]})", &out), 1);
  EXPECT_NE(out.find("messages[0].role"), std::string::npos) << out;
  EXPECT_EQ(Sieve("chat-encode --tokenizer-mode llama --model " + kAssets, request, &out), 2);
}

TEST(CliParse, MessageAndStreamAgree) {
  const std::string text =
      "Need weather.</think>\n\n<｜DSML｜function_calls>\n<｜DSML｜invoke name=\"get_weather\">\n"
      "<｜DSML｜parameter name=\"city\" string=\"true\">Paris</｜DSML｜parameter>\n</｜DSML｜invoke>\n"
      "</｜DSML｜function_calls><｜end▁of▁sentence｜>";
  const std::string flags = "parse --model " + kAssets + " --tool-call-parser deepseekv32 --reasoning-parser deepseek-v3 --thinking";
  std::string out;
  ASSERT_EQ(Sieve(flags, text, &out), 0) << out;
  const auto message = nlohmann::json::parse(out);
  EXPECT_EQ(message["reasoning_content"], "Need weather.");
  EXPECT_TRUE(message["content"].is_null());
  EXPECT_EQ(message["finish_reason"], "tool_calls");
  ASSERT_EQ(message["tool_calls"].size(), 1u);
  EXPECT_EQ(message["tool_calls"][0]["function"]["name"], "get_weather");
  EXPECT_EQ(message["tool_calls"][0]["function"]["arguments"], "{\"city\": \"Paris\"}");

  ASSERT_EQ(Sieve(flags + " --stream-chunk-size 2", text, &out), 0) << out;
  std::string reasoning, arguments, finish;
  std::istringstream lines(out);
  for (std::string line; std::getline(lines, line);) {
    const auto d = nlohmann::json::parse(line);
    reasoning += d.value("reasoning_content", "");
    if (d.contains("tool_calls")) arguments += d["tool_calls"][0]["function"]["arguments"].get<std::string>();
    finish = d.value("finish_reason", finish);
  }
  EXPECT_EQ(reasoning, "Need weather.");
  EXPECT_EQ(arguments, "{\"city\": \"Paris\"}");
  EXPECT_EQ(finish, "tool_calls");
  // Without --thinking the same text is plain content (negative control) and no call is lost.
  ASSERT_EQ(Sieve("parse --model " + kAssets + " --reasoning-parser deepseek-v3", "a</think>b", &out), 0);
  EXPECT_EQ(nlohmann::json::parse(out)["content"], "a</think>b");
  EXPECT_EQ(Sieve("parse --model " + kAssets + " --tool-call-parser hermes", "x", &out), 2);
}

}  // namespace
}  // namespace sieve
