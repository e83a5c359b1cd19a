// The interface between the output parser and the per-format tool-call scanners (DSML for V3.2,
// V3.1-style for V3.2-Exp). A scanner sees only the content part of the output (after reasoning) as a
// growing text and reports plain content and complete tool calls, in order. It must give the same
// result however the text is cut into pieces.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace sieve::text {

class ToolCallSink {
 public:
  virtual ~ToolCallSink() = default;
  virtual void Content(std::string_view text) = 0;
  // `arguments` is the JSON text of the arguments object, as the model wrote or implied it.
  virtual void ToolCall(std::string name, std::string arguments) = 0;
};

class ToolCallScanner {
 public:
  virtual ~ToolCallScanner() = default;
  virtual void Push(std::string_view text, ToolCallSink* sink) = 0;
  // End of output: whatever is still held back is resolved (incomplete markup becomes content).
  virtual void Finish(ToolCallSink* sink) = 0;
  // Markers that open a tool-call section: they also end an unterminated reasoning block.
  virtual std::vector<std::string_view> Openers() const = 0;
};

}  // namespace sieve::text
