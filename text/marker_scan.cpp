// Marker search helpers for the streaming output parsers.
#include "text/marker_scan.h"

#include <algorithm>

namespace sieve::text {

size_t PartialMarkerSuffix(std::string_view text, std::initializer_list<std::string_view> markers) {
  size_t best = 0;
  for (std::string_view m : markers) {
    for (size_t k = std::min(text.size(), m.size() - 1); k > best; --k) {
      if (text.substr(text.size() - k) == m.substr(0, k)) {
        best = k;
        break;
      }
    }
  }
  return best;
}

bool CouldBecomeMarker(std::string_view text, std::initializer_list<std::string_view> markers) {
  if (text.empty()) return false;
  for (std::string_view m : markers)
    if (text.size() < m.size() && m.substr(0, text.size()) == text) return true;
  return false;
}

MarkerHit FindFirstMarker(std::string_view text, std::initializer_list<std::string_view> markers) {
  MarkerHit hit;
  for (std::string_view m : markers) {
    const size_t p = text.find(m);
    if (p != std::string_view::npos && (hit.pos == std::string_view::npos || p < hit.pos)) hit = {p, m};
  }
  return hit;
}

size_t TrailingWhitespace(std::string_view text, size_t end) {
  size_t n = 0;
  while (n < end) {
    const char c = text[end - n - 1];
    if (c != ' ' && c != '\n' && c != '\r' && c != '\t') break;
    ++n;
  }
  return n;
}

}  // namespace sieve::text
