// lm-eval's GSM8K scoring (gsm8k.yaml @ 4e7e0d47): two filter pipelines, each a RegexFilter followed by
// take_first, and the exact_match metric (exact_match_hf_evaluate) with the task's ignore settings.
#pragma once

#include <string>
#include <string_view>

namespace sieve::clients {

// RegexFilter fallback when nothing matches.
inline constexpr const char* kInvalidAnswer = "[invalid]";

// "strict-match": first match of `#### (\-?[0-9\.\,]+)`.
std::string StrictMatch(std::string_view completion);
// "flexible-extract": last match of `(-?[$0-9.,]{2,})|(-?[0-9]+)`, first non-empty group.
std::string FlexibleExtract(std::string_view completion);
// exact_match with ignore_case, regexes_to_ignore [",", "\$", "(?s).*#### ", "\.$"] applied in order to
// both strings; 1.0 when equal. `gold` is the full GSM8K answer.
double ExactMatch(std::string_view prediction, std::string_view gold);

}  // namespace sieve::clients
