// libFuzzer target for the deepseekv32 (DSML) and deepseekv31 parsers with the deepseek-v3 reasoning
// parser: the first byte picks the format and thinking state and a cut point; streaming the rest in two
// chunks must give exactly the complete parse, and no text may vanish.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "text/output_parser.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  sieve::text::OutputParserOptions o;
  o.tool_call_format = (data[0] & 1) ? sieve::text::ToolCallFormat::kDsml : sieve::text::ToolCallFormat::kV31;
  o.starts_in_thinking = (data[0] & 2) != 0;
  o.tool_call_id_seed = 1;
  const std::string text(reinterpret_cast<const char*>(data + 2), size - 2);
  const size_t cut = text.empty() ? 0 : data[1] % (text.size() + 1);
  const sieve::text::ParsedMessage whole = sieve::text::ParseCompletion(text, o);

  sieve::text::OutputParser parser(o);
  sieve::text::ParsedMessage streamed;
  for (const auto& d : parser.Push(std::string_view(text).substr(0, cut))) sieve::text::AccumulateDelta(d, &streamed);
  for (const auto& d : parser.Push(std::string_view(text).substr(cut))) sieve::text::AccumulateDelta(d, &streamed);
  for (const auto& d : parser.Finish()) sieve::text::AccumulateDelta(d, &streamed);
  if (streamed.content != whole.content || streamed.reasoning_content != whole.reasoning_content ||
      streamed.tool_calls.size() != whole.tool_calls.size())
    std::abort();
  for (size_t i = 0; i < whole.tool_calls.size(); ++i)
    if (streamed.tool_calls[i].arguments != whole.tool_calls[i].arguments ||
        streamed.tool_calls[i].name != whole.tool_calls[i].name)
      std::abort();
  // Without markup the parsers must hand back every byte.
  if (text.find('<') == std::string::npos && !o.starts_in_thinking && whole.content != text) std::abort();
  return 0;
}
