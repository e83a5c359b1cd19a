// The GSM8K splits (`{"question", "answer"}` per JSON line) as `sieve eval gsm8k` reads them: from
// assets/gsm8k (vendored, MIT) or a user-given folder holding test.jsonl and train.jsonl.
#pragma once

#include <string>
#include <vector>

#include "core/status.h"

namespace sieve::clients {

struct Gsm8kDoc {
  std::string question;
  std::string answer;  // reasoning with <<expr=value>> annotations, last line "#### N"
};

// Reads one split file; every non-empty line must be a JSON object with string "question" and "answer".
StatusOr<std::vector<Gsm8kDoc>> LoadGsm8kSplit(const std::string& path);

}  // namespace sieve::clients
