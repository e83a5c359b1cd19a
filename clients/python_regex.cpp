// PCRE2-backed Python-style findall/sub; see python_regex.h.
#define PCRE2_CODE_UNIT_WIDTH 8
#include "clients/python_regex.h"

#include <fmt/format.h>
#include <pcre2.h>

namespace sieve::clients {

struct PythonRegex::Code {
  pcre2_code* code = nullptr;
  uint32_t capture_count = 0;
  ~Code() { pcre2_code_free(code); }
};

StatusOr<PythonRegex> PythonRegex::Compile(std::string_view pattern) {
  pcre2_compile_context* context = pcre2_compile_context_create(nullptr);
  pcre2_set_newline(context, PCRE2_NEWLINE_LF);
  int error = 0;
  PCRE2_SIZE error_offset = 0;
  // MATCH_INVALID_UTF: a server may send any bytes; invalid sequences simply never match.
  pcre2_code* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                                   PCRE2_UTF | PCRE2_MATCH_INVALID_UTF, &error, &error_offset, context);
  pcre2_compile_context_free(context);
  if (code == nullptr) {
    PCRE2_UCHAR message[256];
    pcre2_get_error_message(error, message, sizeof(message));
    return Status::InvalidArgument(fmt::format("regex '{}' at offset {}: {}", pattern, error_offset,
                                               reinterpret_cast<const char*>(message)));
  }
  auto owned = std::make_shared<Code>();
  owned->code = code;
  pcre2_pattern_info(code, PCRE2_INFO_CAPTURECOUNT, &owned->capture_count);
  return PythonRegex(std::move(owned));
}

std::vector<PythonRegex::Span> PythonRegex::Matches(std::string_view subject) const {
  std::vector<Span> spans;
  pcre2_match_data* data = pcre2_match_data_create_from_pattern(code_->code, nullptr);
  const auto* text = reinterpret_cast<PCRE2_SPTR>(subject.data());
  size_t offset = 0;
  uint32_t options = 0;
  while (offset <= subject.size()) {
    const int rc = pcre2_match(code_->code, text, subject.size(), offset, options, data, nullptr);
    if (rc < 0) {
      if (options == 0) break;  // no further match anywhere
      // No non-empty match at this position after an empty one: move on by one UTF-8 character.
      options = 0;
      ++offset;
      while (offset < subject.size() && (static_cast<unsigned char>(subject[offset]) & 0xC0) == 0x80) ++offset;
      continue;
    }
    const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(data);
    Span span{ov[0], ov[1], {}};
    for (uint32_t g = 1; g <= code_->capture_count; ++g) {
      const bool set = static_cast<int>(g) < rc && ov[2 * g] != PCRE2_UNSET;
      span.groups.emplace_back(set ? ov[2 * g] : std::string_view::npos, set ? ov[2 * g + 1] : std::string_view::npos);
    }
    spans.push_back(std::move(span));
    offset = ov[1];
    // After an empty match the next one may not be empty at the same position (Python's rule).
    options = ov[0] == ov[1] ? (PCRE2_NOTEMPTY_ATSTART | PCRE2_ANCHORED) : 0;
  }
  pcre2_match_data_free(data);
  return spans;
}

std::vector<std::vector<std::string>> PythonRegex::FindAll(std::string_view subject) const {
  std::vector<std::vector<std::string>> out;
  for (const Span& s : Matches(subject)) {
    std::vector<std::string> entry;
    if (s.groups.empty()) entry.emplace_back(subject.substr(s.begin, s.end - s.begin));
    for (const auto& [b, e] : s.groups) {
      entry.emplace_back(b == std::string_view::npos ? std::string() : std::string(subject.substr(b, e - b)));
    }
    out.push_back(std::move(entry));
  }
  return out;
}

std::string PythonRegex::ReplaceAll(std::string_view subject, std::string_view replacement) const {
  std::string out;
  size_t copied = 0;
  for (const Span& s : Matches(subject)) {
    out.append(subject.substr(copied, s.begin - copied));
    out.append(replacement);
    copied = s.end;
  }
  out.append(subject.substr(copied));
  return out;
}

}  // namespace sieve::clients
