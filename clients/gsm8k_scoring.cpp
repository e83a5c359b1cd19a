// GSM8K filters and exact_match, as lm-eval computes them; see gsm8k_scoring.h.
#include "clients/gsm8k_scoring.h"

#include <array>

#include "clients/python_regex.h"
#include "core/logging.h"

namespace sieve::clients {
namespace {

// The patterns are constants, so a compile failure is a programming error, not user input.
PythonRegex MustCompile(const char* pattern) {
  auto re = PythonRegex::Compile(pattern);
  SIEVE_CHECK(re.ok()) << re.status().message();
  return std::move(re).value();
}

constexpr const char* kStrictPattern = R"(#### (\-?[0-9\.\,]+))";
constexpr const char* kFlexiblePattern = R"((-?[$0-9.,]{2,})|(-?[0-9]+))";

const std::array<PythonRegex, 4>& RegexesToIgnore() {
  static const std::array<PythonRegex, 4> regexes = {MustCompile(","), MustCompile(R"(\$)"),
                                                     MustCompile("(?s).*#### "), MustCompile(R"(\.$)")};
  return regexes;
}

// RegexFilter.apply (lm_eval/filters/extraction.py): re.findall, pick matches[group_select]; a tuple keeps
// its first non-empty group; no match (or only empty groups) gives the fallback; then strip().
std::string ApplyRegexFilter(const PythonRegex& re, std::string_view text, bool take_last) {
  const auto matches = re.FindAll(text);
  if (matches.empty()) return kInvalidAnswer;
  const std::vector<std::string>& picked = take_last ? matches.back() : matches.front();
  std::string value;
  if (picked.size() == 1) {
    value = picked[0];
  } else {
    for (const std::string& g : picked)
      if (!g.empty()) {
        value = g;
        break;
      }
    if (value.empty()) return kInvalidAnswer;
  }
  // str.strip(): the captured characters are ASCII, so ASCII whitespace is all there is to strip.
  const size_t b = value.find_first_not_of(" \t\n\r\f\v");
  if (b == std::string::npos) return "";
  return value.substr(b, value.find_last_not_of(" \t\n\r\f\v") - b + 1);
}

std::string Normalize(std::string_view s) {
  std::string out(s);
  for (const PythonRegex& re : RegexesToIgnore()) out = re.ReplaceAll(out, "");
  // np.char.lower; after the regexes both sides are numbers or "[invalid]", so ASCII lowering is exact.
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

}  // namespace

std::string StrictMatch(std::string_view completion) {
  static const PythonRegex re = MustCompile(kStrictPattern);
  return ApplyRegexFilter(re, completion, /*take_last=*/false);  // group_select 0
}

std::string FlexibleExtract(std::string_view completion) {
  static const PythonRegex re = MustCompile(kFlexiblePattern);
  return ApplyRegexFilter(re, completion, /*take_last=*/true);  // group_select -1
}

double ExactMatch(std::string_view prediction, std::string_view gold) {
  return Normalize(prediction) == Normalize(gold) ? 1.0 : 0.0;
}

}  // namespace sieve::clients
