// Finding markup markers (</think>, <｜DSML｜invoke, <｜tool▁call▁begin｜>, …) in text that arrives in
// pieces: a streaming parser must hold back a tail that could still grow into a marker.
#pragma once

#include <cstddef>
#include <initializer_list>
#include <string_view>

namespace sieve::text {

// Length of the longest suffix of `text` that is a proper prefix of one of `markers` (0 if none).
size_t PartialMarkerSuffix(std::string_view text, std::initializer_list<std::string_view> markers);

// True when `text` is non-empty and a proper prefix of one of `markers`: more input may complete it.
bool CouldBecomeMarker(std::string_view text, std::initializer_list<std::string_view> markers);

// Position of the earliest occurrence of any marker at or after `from`, and which one (npos if none).
struct MarkerHit {
  size_t pos = std::string_view::npos;
  std::string_view marker;
};
MarkerHit FindFirstMarker(std::string_view text, std::initializer_list<std::string_view> markers);

// Number of trailing ASCII whitespace bytes of `text` ending at `end`.
size_t TrailingWhitespace(std::string_view text, size_t end);

}  // namespace sieve::text
