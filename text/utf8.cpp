// UTF-8 lossy decoding by maximal subparts (Unicode 15 §3.9 "U+FFFD Substitution of Maximal Subparts").
#include "text/utf8.h"

#include <cstdint>

namespace sieve::text {
namespace {

// Bytes of the well-formed sequence starting at `p` (1-4), or the length of its maximal subpart as a
// negative number (-1..-3) when it is ill-formed or cut off by the end of input. `*truncated` is set
// when the sequence was well-formed so far and only ran out of input.
int ScanSequence(const uint8_t* p, size_t n, bool* truncated) {
  *truncated = false;
  const uint8_t b0 = p[0];
  if (b0 < 0x80) return 1;
  int len;
  uint8_t lo = 0x80, hi = 0xBF;  // allowed range of the second byte (Table 3-7)
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    len = 2;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    len = 3;
    if (b0 == 0xE0) lo = 0xA0;
    if (b0 == 0xED) hi = 0x9F;  // no surrogates
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    len = 4;
    if (b0 == 0xF0) lo = 0x90;
    if (b0 == 0xF4) hi = 0x8F;  // nothing above U+10FFFF
  } else {
    return -1;
  }
  for (int i = 1; i < len; ++i) {
    if (static_cast<size_t>(i) >= n) {
      *truncated = true;
      return -i;
    }
    const uint8_t b = p[i];
    const bool ok = i == 1 ? (b >= lo && b <= hi) : (b >= 0x80 && b <= 0xBF);
    if (!ok) return -i;
  }
  return len;
}

}  // namespace

std::string Utf8Lossy(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size());
  const auto* p = reinterpret_cast<const uint8_t*>(bytes.data());
  size_t i = 0;
  while (i < bytes.size()) {
    bool truncated;
    const int r = ScanSequence(p + i, bytes.size() - i, &truncated);
    if (r > 0) {
      out.append(bytes.data() + i, r);
      i += r;
    } else {
      out.append("\xEF\xBF\xBD");
      i += -r;
    }
  }
  return out;
}

bool IsValidUtf8(std::string_view bytes) {
  const auto* p = reinterpret_cast<const uint8_t*>(bytes.data());
  size_t i = 0;
  while (i < bytes.size()) {
    bool truncated;
    const int r = ScanSequence(p + i, bytes.size() - i, &truncated);
    if (r < 0) return false;
    i += r;
  }
  return true;
}

size_t Utf8CompletePrefixLength(std::string_view bytes) {
  const auto* p = reinterpret_cast<const uint8_t*>(bytes.data());
  size_t i = 0;
  while (i < bytes.size()) {
    bool truncated;
    const int r = ScanSequence(p + i, bytes.size() - i, &truncated);
    if (truncated) return i;
    i += r > 0 ? r : -r;
  }
  return bytes.size();
}

void AppendUtf8(char32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

}  // namespace sieve::text
