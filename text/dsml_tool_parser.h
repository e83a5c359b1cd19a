// The deepseekv32 tool-call parser: DSML blocks (<｜DSML｜function_calls>, <｜DSML｜invoke name="…">,
// <｜DSML｜parameter name="…" string="true|false">…</｜DSML｜parameter>) in DeepSeek-V3.2 output.
// Unlike the strict reference (parse_message_from_completion_text in encoding_dsv32.py) it never fails
// a request: every well-formed invoke is a tool call, and markup it cannot read is returned as content.
#pragma once

#include <memory>

#include "text/tool_call_scanner.h"

namespace sieve::text {

std::unique_ptr<ToolCallScanner> MakeDsmlToolCallScanner();

}  // namespace sieve::text
