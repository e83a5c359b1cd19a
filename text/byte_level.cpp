// GPT-2 byte <-> code point table (openai/gpt-2 src/encoder.py bytes_to_unicode).
#include "text/byte_level.h"

#include <array>
#include <cstdint>

namespace sieve::text {
namespace {

// Printable Latin-1 bytes stand for themselves; the other 68 bytes take code points 256, 257, ... in
// byte order.
std::array<char32_t, 256> BuildTable() {
  std::array<char32_t, 256> t{};
  char32_t next = 256;
  for (int b = 0; b < 256; ++b) {
    const bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
    t[b] = printable ? static_cast<char32_t>(b) : next++;
  }
  return t;
}

const std::array<char32_t, 256>& Table() {
  static const std::array<char32_t, 256> table = BuildTable();
  return table;
}

// Inverse table over code points 0..323 (the largest is 256 + 67); -1 where no byte maps.
const std::array<int16_t, 324>& InverseTable() {
  static const std::array<int16_t, 324> inverse = [] {
    std::array<int16_t, 324> inv;
    inv.fill(-1);
    for (int b = 0; b < 256; ++b) inv[Table()[b]] = static_cast<int16_t>(b);
    return inv;
  }();
  return inverse;
}

}  // namespace

char32_t ByteToCodePoint(unsigned char b) { return Table()[b]; }

std::optional<std::string> ByteLevelToBytes(std::string_view token) {
  std::string out;
  out.reserve(token.size());
  const auto* p = reinterpret_cast<const uint8_t*>(token.data());
  size_t i = 0;
  while (i < token.size()) {
    // Every alphabet code point is below U+0800, so one or two bytes; anything longer is foreign.
    char32_t cp;
    if (p[i] < 0x80) {
      cp = p[i];
      i += 1;
    } else if ((p[i] & 0xE0) == 0xC0 && i + 1 < token.size()) {
      cp = ((p[i] & 0x1F) << 6) | (p[i + 1] & 0x3F);
      i += 2;
    } else {
      return std::nullopt;
    }
    if (cp >= InverseTable().size() || InverseTable()[cp] < 0) return std::nullopt;
    out.push_back(static_cast<char>(InverseTable()[cp]));
  }
  return out;
}

}  // namespace sieve::text
