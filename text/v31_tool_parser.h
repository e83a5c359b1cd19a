// The deepseekv31 tool-call parser for DeepSeek-V3.2-Exp (V3.1 format):
//   <｜tool▁calls▁begin｜>(<｜tool▁call▁begin｜>NAME<｜tool▁sep｜>ARGUMENTS<｜tool▁call▁end｜>)+<｜tool▁calls▁end｜>
// Where vLLM's deepseek_v31 and SGLang's deepseekv31 parsers differ, Sieve follows vLLM (content before
// the calls kept verbatim, arguments passed through as written) except where vLLM loses text: a newline
// in the arguments still parses (SGLang's DOTALL), text after <｜tool▁calls▁end｜> is content, and a cut-off
// call is returned as content.
#pragma once

#include <memory>

#include "text/tool_call_scanner.h"

namespace sieve::text {

std::unique_ptr<ToolCallScanner> MakeV31ToolCallScanner();

}  // namespace sieve::text
