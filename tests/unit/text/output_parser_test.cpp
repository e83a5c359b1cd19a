// Output parsing golden tests: every row of parse_dsv32.jsonl. DSML rows with `expected` must match the
// reference exactly; for the reference's `expected_error` rows Sieve must not fail and the exact
// recovery (what becomes content, what stays a tool call) is pinned here, one reason per row.
// V3.1 rows follow vLLM's column except where vLLM loses text (see text/v31_tool_parser.h).
#include "text/output_parser.h"

#include <gtest/gtest.h>

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <random>

#include "tests/unit/text/text_fixtures.h"

namespace sieve::text {
namespace {

using nlohmann::json;
using testing::ReadJsonl;

struct Expected {
  std::string reasoning, content;
  std::vector<std::pair<std::string, std::string>> calls;  // name, arguments
};

const std::string kOpen = "<｜DSML｜function_calls>";
const std::string kInvokeF = "<｜DSML｜invoke name=\"f\">";
const std::string kParamX1 = "<｜DSML｜parameter name=\"x\" string=\"true\">1</｜DSML｜parameter>";

// Sieve's answer for each row where DeepSeek's reference parser raises.
const std::map<std::string, Expected>& DsmlRecoveries() {
  static const std::map<std::string, Expected> table = {
      // Cut off before EOS: the text is the content.
      {"chat_missing_eos", {"", "Hello", {}}},
      // Thinking never closed: all of it is reasoning (vLLM's choice), nothing is lost.
      {"thinking_missing_end_think", {"I am thinking and never stop", "", {}}},
      // A DSML block inside the thinking block ends the reasoning and is still a tool call.
      {"thinking_tool_call_inside_reasoning", {"hmm", "", {{"f", "{\"x\": \"1\"}"}}}},
      // The block was cut off after a complete invoke: the call stands.
      {"unterminated_function_calls", {"", "", {{"f", "{\"x\": \"1\"}"}}}},
      // The parameter value was cut off: not a call; the markup is returned as content.
      {"unterminated_parameter",
       {"", kOpen + "\n" + kInvokeF + "\n<｜DSML｜parameter name=\"x\" string=\"true\">1", {}}},
      // Two values for one key cannot be one JSON object: the invoke is content.
      {"duplicate_parameter",
       {"",
        kOpen + "\n" + kInvokeF + "\n" + kParamX1 + "\n" +
            "<｜DSML｜parameter name=\"x\" string=\"true\">2</｜DSML｜parameter>\n</｜DSML｜invoke>",
        {}}},
      // string="yes" is neither form: the invoke is content.
      {"bad_string_attr",
       {"",
        kOpen + "\n" + kInvokeF + "\n" + "<｜DSML｜parameter name=\"x\" string=\"yes\">1</｜DSML｜parameter>\n</｜DSML｜invoke>",
        {}}},
      // Text after the block is content; the call stands.
      {"text_after_tool_calls", {"", "trailing text", {{"f", "{\"x\": \"1\"}"}}}},
      // EOS in the middle is kept as text (only a final EOS is dropped).
      {"content_after_eos", {"", "Hi<｜end▁of▁sentence｜>more", {}}},
      // Special strings in content are the model's text, returned as such.
      {"special_token_in_content", {"", "Use <think> tags", {}}},
      // The block is recognised without the blank line; the whitespace before it is dropped.
      {"dsml_in_content_without_blank_line", {"", "Text", {{"f", "{\"x\": \"1\"}"}}}},
      {"single_newline_before_function_calls", {"", "Text", {{"f", "{\"x\": \"1\"}"}}}},
      // No newline after the opener is still a block.
      {"no_newline_after_function_calls_open", {"", "", {{"f", "{}"}}}},
      // Chat mode: the prompt said no thinking, so a </think> is the model's text (thinking toggle kept).
      {"thinking_mode_output_in_chat_mode", {"", "reasoning</think>answer", {}}},
  };
  return table;
}

// V3.1 rows where Sieve differs from vLLM's column because vLLM drops text (or a call).
const std::map<std::string, Expected>& V31Differences() {
  static const std::map<std::string, Expected> table = {
      // vLLM: no call and no content. Sieve: the cut-off call is returned as content.
      {"unterminated_call",
       {"", "<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>get_weather<｜tool▁sep｜>{\"location\": \"Tok", {}}},
      // vLLM drops the text after the section; Sieve keeps it as content.
      {"text_after_calls", {"", " trailing", {{"f", "{\"x\": 1}"}}}},
      // vLLM's regex has no DOTALL and loses the call; SGLang parses it (arguments kept verbatim here).
      {"newline_in_args", {"", "", {{"f", "{\n  \"x\": \"a\\nb\"\n}"}}}},
      // V3/R1 fenced form: vLLM loses the call; Sieve reads the name and the fenced JSON.
      {"v3_legacy_function_type_fence", {"", "", {{"get_weather", "{\"location\": \"Tokyo\"}"}}}},
  };
  return table;
}

Expected FromReference(const json& e, const char* reasoning_key) {
  Expected out;
  out.reasoning = e[reasoning_key].is_null() ? "" : e[reasoning_key].get<std::string>();
  out.content = e["content"].is_null() ? "" : e["content"].get<std::string>();
  for (const json& c : e["tool_calls"]) out.calls.emplace_back(c["name"], c["arguments"]);
  return out;
}

OutputParserOptions OptionsFor(const json& row) {
  OutputParserOptions o;
  o.parse_reasoning = true;
  o.tool_call_id_seed = 7;
  if (row["format"] == "dsml_v32") {
    o.tool_call_format = ToolCallFormat::kDsml;
    o.starts_in_thinking = row["thinking_mode"] == "thinking";
  } else {
    o.tool_call_format = ToolCallFormat::kV31;
    o.starts_in_thinking = row["thinking"].get<bool>();
  }
  return o;
}

Expected ExpectedFor(const json& row) {
  const std::string name = row["name"];
  if (row["format"] == "dsml_v32") {
    if (row.contains("expected")) return FromReference(row["expected"], "reasoning_content");
    return DsmlRecoveries().at(name);
  }
  if (V31Differences().count(name)) return V31Differences().at(name);
  return FromReference(row["vllm"], "reasoning_content");
}

void ExpectMessage(const ParsedMessage& got, const Expected& want, const std::string& what) {
  EXPECT_EQ(got.reasoning_content, want.reasoning) << what;
  EXPECT_EQ(got.content, want.content) << what;
  ASSERT_EQ(got.tool_calls.size(), want.calls.size()) << what;
  for (size_t i = 0; i < want.calls.size(); ++i) {
    EXPECT_EQ(got.tool_calls[i].name, want.calls[i].first) << what;
    EXPECT_EQ(got.tool_calls[i].arguments, want.calls[i].second) << what;
  }
}

std::vector<json> Rows() {
  const auto dir = test::SharedFixture("chat");
  return dir ? ReadJsonl(*dir + "/parse_dsv32.jsonl") : std::vector<json>{};
}

TEST(OutputParserGolden, EveryParseRowMatches) {
  const auto rows = Rows();
  if (rows.empty()) GTEST_SKIP() << "../shared/fixtures/chat not present; golden test skipped";
  ASSERT_EQ(rows.size(), 51u);
  size_t recovered = 0, differences = 0;
  for (const json& row : rows) {
    const std::string name = row["name"];
    recovered += DsmlRecoveries().count(name);
    differences += V31Differences().count(name);
    ExpectMessage(ParseCompletion(row["text"].get<std::string>(), OptionsFor(row)), ExpectedFor(row), name);
  }
  // Every override names a real row: the tables cannot silently go stale.
  EXPECT_EQ(recovered, DsmlRecoveries().size());
  EXPECT_EQ(differences, V31Differences().size());
}

// Negative control: the same text parsed with the other thinking state gives a different message.
TEST(OutputParserGolden, ThinkingStateChangesTheResult) {
  OutputParserOptions o;
  o.tool_call_format = ToolCallFormat::kDsml;
  o.starts_in_thinking = true;
  const ParsedMessage thinking = ParseCompletion("The user greets me.</think>Hello!", o);
  EXPECT_EQ(thinking.reasoning_content, "The user greets me.");
  o.starts_in_thinking = false;
  const ParsedMessage chat = ParseCompletion("The user greets me.</think>Hello!", o);
  EXPECT_EQ(chat.reasoning_content, "");
  EXPECT_EQ(chat.content, "The user greets me.</think>Hello!");
}

// Streams `text` cut at `cuts` and returns the assembled message (and finish state).
ParsedMessage Stream(const std::string& text, const std::vector<size_t>& cuts, const OutputParserOptions& o,
                     bool* made_calls = nullptr) {
  OutputParser parser(o);
  ParsedMessage message;
  size_t prev = 0;
  for (size_t cut : cuts) {
    for (const auto& d : parser.Push(std::string_view(text).substr(prev, cut - prev))) AccumulateDelta(d, &message);
    prev = cut;
  }
  for (const auto& d : parser.Push(std::string_view(text).substr(prev))) AccumulateDelta(d, &message);
  for (const auto& d : parser.Finish()) AccumulateDelta(d, &message);
  if (made_calls) *made_calls = parser.made_tool_calls();
  return message;
}

void ExpectSame(const ParsedMessage& a, const ParsedMessage& b, const std::string& what) {
  EXPECT_EQ(a.reasoning_content, b.reasoning_content) << what;
  EXPECT_EQ(a.content, b.content) << what;
  ASSERT_EQ(a.tool_calls.size(), b.tool_calls.size()) << what;
  for (size_t i = 0; i < a.tool_calls.size(); ++i) {
    EXPECT_EQ(a.tool_calls[i].id, b.tool_calls[i].id) << what;
    EXPECT_EQ(a.tool_calls[i].name, b.tool_calls[i].name) << what;
    EXPECT_EQ(a.tool_calls[i].arguments, b.tool_calls[i].arguments) << what;
  }
}

// Property: for every parse vector, every single cut point and 40 random multi-cuts (fixed seed) give
// the same message as the complete parse.
TEST(OutputParserProperty, AnyChunkingGivesTheCompleteParse) {
  const auto rows = Rows();
  if (rows.empty()) GTEST_SKIP() << "../shared/fixtures/chat not present";
  std::mt19937 rng(20251123);
  for (const json& row : rows) {
    const std::string text = row["text"];
    const OutputParserOptions o = OptionsFor(row);
    const ParsedMessage whole = ParseCompletion(text, o);
    for (size_t cut = 0; cut <= text.size(); ++cut)
      ExpectSame(Stream(text, {cut}, o), whole, fmt::format("{} cut at {}", row["name"].get<std::string>(), cut));
    for (int trial = 0; trial < 40; ++trial) {
      std::vector<size_t> cuts(1 + rng() % 8);
      for (auto& c : cuts) c = rng() % (text.size() + 1);
      std::sort(cuts.begin(), cuts.end());
      ExpectSame(Stream(text, cuts, o), whole, fmt::format("{} trial {}", row["name"].get<std::string>(), trial));
    }
    // Byte-at-a-time, the extreme case of a tokenizer emitting one byte per token.
    std::vector<size_t> every(text.size());
    for (size_t i = 0; i < text.size(); ++i) every[i] = i;
    ExpectSame(Stream(text, every, o), whole, row["name"].get<std::string>() + " byte by byte");
  }
}

// --- Named failure modes reported against other engines -------------------------------------------

OutputParserOptions Dsml(bool thinking = false) {
  OutputParserOptions o;
  o.tool_call_format = ToolCallFormat::kDsml;
  o.starts_in_thinking = thinking;
  o.tool_call_id_seed = 1;
  return o;
}

TEST(OutputParserFailureModes, BareInvokeWithoutWrapperIsAToolCall) {
  bool made_calls = false;
  const std::string text = "Sure.\n\n" + kInvokeF + "\n" + kParamX1 + "\n</｜DSML｜invoke>";
  const ParsedMessage m = Stream(text, {}, Dsml(), &made_calls);
  EXPECT_EQ(m.content, "Sure.");
  ASSERT_EQ(m.tool_calls.size(), 1u);
  EXPECT_EQ(m.tool_calls[0].arguments, "{\"x\": \"1\"}");
  EXPECT_TRUE(made_calls);  // finish_reason tool_calls, not stop
}

TEST(OutputParserFailureModes, UnterminatedSectionStillYieldsItsCalls) {
  bool made_calls = false;
  const ParsedMessage m = Stream("\n\n" + kOpen + "\n" + kInvokeF + "\n" + kParamX1 + "\n", {5, 30}, Dsml(), &made_calls);
  ASSERT_EQ(m.tool_calls.size(), 1u);
  EXPECT_EQ(m.content, "");
  EXPECT_TRUE(made_calls);
}

TEST(OutputParserFailureModes, MalformedSiblingDoesNotSinkGoodCalls) {
  const std::string bad = "<｜DSML｜invoke name=\"g\">\n<｜DSML｜parameter name=\"y\" string=\"maybe\">2</｜DSML｜parameter>\n</｜DSML｜invoke>";
  const std::string good2 = "<｜DSML｜invoke name=\"h\">\n</｜DSML｜invoke>";
  const std::string text = "\n\n" + kOpen + "\n" + kInvokeF + "\n" + kParamX1 + "\n</｜DSML｜invoke>\n" + bad + "\n" +
                           good2 + "\n</｜DSML｜function_calls>";
  const ParsedMessage m = ParseCompletion(text, Dsml());
  ASSERT_EQ(m.tool_calls.size(), 2u);
  EXPECT_EQ(m.tool_calls[0].name, "f");
  EXPECT_EQ(m.tool_calls[1].name, "h");
  EXPECT_EQ(m.tool_calls[1].arguments, "{}");
  EXPECT_EQ(m.content, bad);  // nothing of the malformed call is lost
}

TEST(OutputParserFailureModes, MarkupSplitAcrossChunksParsesLikeOneChunk) {
  const std::string text = "Let me check.\n\n" + kOpen + "\n" + kInvokeF + "\n" + kParamX1 + "\n</｜DSML｜invoke>\n</｜DSML｜function_calls>";
  // Cut inside every multi-byte marker character: the fullwidth bar is 3 bytes.
  const size_t in_bar = text.find("｜") + 1;
  const ParsedMessage streamed = Stream(text, {in_bar, in_bar + 1, text.find("invoke") + 2}, Dsml());
  ExpectSame(streamed, ParseCompletion(text, Dsml()), "split markup");
  EXPECT_EQ(streamed.tool_calls.size(), 1u);
}

TEST(OutputParserFailureModes, OutputAfterToolResultIsNotReasoningInChatTurns) {
  // After tool results in a non-thinking turn the prompt ends with "\n\n</think>": starts_in_thinking is
  // false (ChatPrompt), so the answer is content even with the reasoning parser on.
  const ParsedMessage m = ParseCompletion("It is 18C in Paris.", Dsml(/*thinking=*/false));
  EXPECT_EQ(m.reasoning_content, "");
  EXPECT_EQ(m.content, "It is 18C in Paris.");
}

TEST(OutputParserFailureModes, ThinkingToggleIsHonoured) {
  const std::string text = "Thoughts.</think>Answer.";
  EXPECT_EQ(ParseCompletion(text, Dsml(true)).content, "Answer.");
  EXPECT_EQ(ParseCompletion(text, Dsml(false)).content, text);
}

TEST(OutputParser, StreamingDeltasCarryIdAndNameOnce) {
  OutputParser parser(Dsml());
  std::vector<MessageDelta> deltas = parser.Push("\n\n" + kOpen + "\n" + kInvokeF + "\n" + kParamX1);
  for (auto& d : parser.Finish()) deltas.push_back(d);
  int with_name = 0;
  for (const auto& d : deltas)
    for (const auto& c : d.tool_calls) {
      with_name += !c.name.empty();
      EXPECT_EQ(c.id.rfind("chatcmpl-tool-", 0), 0u);
      EXPECT_EQ(c.index, 0);
    }
  EXPECT_EQ(with_name, 1);
  EXPECT_TRUE(parser.made_tool_calls());
}

TEST(OutputParser, ParserNames) {
  EXPECT_EQ(*ToolCallFormatFromName("deepseekv32"), ToolCallFormat::kDsml);
  EXPECT_EQ(*ToolCallFormatFromName("deepseekv31"), ToolCallFormat::kV31);
  EXPECT_FALSE(ToolCallFormatFromName("hermes").ok());
  EXPECT_TRUE(*ReasoningParserFromName("deepseek-v3"));
  EXPECT_FALSE(ReasoningParserFromName("qwen3").ok());
}

}  // namespace
}  // namespace sieve::text
