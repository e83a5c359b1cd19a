// The deepseek-v3 reasoning parser (vLLM `--reasoning-parser deepseek_v3`): when generation starts inside
// a thinking block, text up to `</think>` is reasoning_content and the rest is content. Whether it starts
// inside one is decided per request from how the prompt ends (text::ChatPrompt::starts_in_thinking), not
// from a server-wide flag, so output after tool results in non-thinking turns is never taken as reasoning.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace sieve::text {

class ReasoningSplitter {
 public:
  // `implicit_ends`: markers that end reasoning without a `</think>` (a tool-call section the model
  // opened while still thinking); they are left in the content for the tool-call scanner.
  ReasoningSplitter(bool starts_in_thinking, std::vector<std::string_view> implicit_ends);

  struct Split {
    std::string reasoning;  // always precedes `content` in the output
    std::string content;
  };
  Split Push(std::string_view text);
  Split Finish();

 private:
  enum class State { kStart, kReasoning, kContent };
  Split Run(bool final);

  State state_;
  std::vector<std::string_view> implicit_ends_;
  std::string buffer_;  // text not yet assigned
};

}  // namespace sieve::text
