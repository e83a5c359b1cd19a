// Regex pre-tokenization through PCRE2 with JIT. PCRE2 was chosen over std::regex because the patterns
// need Unicode property classes (\p{L}, \p{N}, ...) and lookahead, and JIT keeps encoding fast.
#include "text/pre_tokenizer.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <fmt/format.h>

namespace sieve::text {

struct PreTokenizer::CompiledRegex {
  pcre2_code* code = nullptr;
  ~CompiledRegex() { pcre2_code_free(code); }
};

PreTokenizer::~PreTokenizer() = default;

StatusOr<std::unique_ptr<PreTokenizer>> PreTokenizer::Create(const std::vector<std::string>& patterns) {
  std::unique_ptr<PreTokenizer> pt(new PreTokenizer());
  for (const std::string& pattern : patterns) {
    int error = 0;
    PCRE2_SIZE offset = 0;
    // UCP: \s, \w, \d and POSIX classes follow Unicode properties, as Oniguruma's do in `tokenizers`.
    pcre2_code* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                                     PCRE2_UTF | PCRE2_UCP, &error, &offset, nullptr);
    if (code == nullptr) {
      PCRE2_UCHAR message[256];
      pcre2_get_error_message(error, message, sizeof(message));
      return Status::InvalidArgument(fmt::format("pre-tokenizer regex '{}': {} at offset {}", pattern,
                                                 reinterpret_cast<const char*>(message), offset));
    }
    auto step = std::make_unique<CompiledRegex>();
    step->code = code;
    // JIT is an optimisation only: when unavailable, pcre2_match falls back to the interpreter.
    pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);
    pt->steps_.push_back(std::move(step));
  }
  return pt;
}

std::vector<std::string_view> PreTokenizer::Split(std::string_view text) const {
  std::vector<std::string_view> pieces;
  if (!text.empty()) pieces.push_back(text);
  std::vector<std::string_view> next;
  for (const auto& step : steps_) {
    pcre2_match_data* md = pcre2_match_data_create_from_pattern(step->code, nullptr);
    next.clear();
    for (std::string_view piece : pieces) {
      const auto* subject = reinterpret_cast<PCRE2_SPTR>(piece.data());
      size_t pos = 0;   // search start
      size_t last = 0;  // end of the previous match: text in between is its own piece
      while (pos < piece.size()) {
        // The caller guarantees valid UTF-8, so the per-call check is skipped.
        const int rc = pcre2_match(step->code, subject, piece.size(), pos, PCRE2_NO_UTF_CHECK, md, nullptr);
        // No match ends the search; any other error (a match limit, never seen on 2 MB inputs) leaves the
        // rest of the piece whole rather than failing the request.
        if (rc < 0) break;
        const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(md);
        const size_t start = ov[0], end = ov[1];
        if (start > last) next.push_back(piece.substr(last, start - last));
        if (end > start) {
          next.push_back(piece.substr(start, end - start));
          last = pos = end;
        } else {
          // An empty match isolates nothing; step over one character so the search advances.
          pos = start + 1;
          while (pos < piece.size() && (static_cast<unsigned char>(piece[pos]) & 0xC0) == 0x80) ++pos;
        }
      }
      if (last < piece.size()) next.push_back(piece.substr(last));
    }
    pcre2_match_data_free(md);
    pieces.swap(next);
  }
  return pieces;
}

}  // namespace sieve::text
