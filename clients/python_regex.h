// Python `re` findall/sub semantics on top of PCRE2, for the regexes lm-eval scores GSM8K with.
// The syntax used there (classes, groups, (?s), \. \$ \-, `$` before a final newline) means the same in
// PCRE2 and Python; this class adds Python's iteration rules: non-overlapping matches left to right, an
// empty match allowed right after a non-empty one but never twice at one position (Python >= 3.7).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace sieve::clients {

class PythonRegex {
 public:
  // Compiles `pattern` for UTF-8 subjects; "." and "$" treat only "\n" as a newline, as Python does.
  static StatusOr<PythonRegex> Compile(std::string_view pattern);

  // re.findall: one entry per match; each entry holds group 0 when the pattern has no groups, else the
  // groups 1..n (a group that did not take part is "").
  std::vector<std::vector<std::string>> FindAll(std::string_view subject) const;
  // re.sub(pattern, replacement, subject) with a literal replacement (no backreferences).
  std::string ReplaceAll(std::string_view subject, std::string_view replacement) const;

 private:
  struct Code;
  struct Span {
    size_t begin, end;                             // group 0, byte offsets
    std::vector<std::pair<size_t, size_t>> groups;  // groups 1..n, {npos, npos} if unset
  };
  explicit PythonRegex(std::shared_ptr<const Code> code) : code_(std::move(code)) {}
  std::vector<Span> Matches(std::string_view subject) const;

  std::shared_ptr<const Code> code_;
};

}  // namespace sieve::clients
