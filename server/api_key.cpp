#include "server/api_key.h"

namespace sieve::server {

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  // Every byte of the longer string is looked at; the length difference is folded into the result.
  const size_t n = a.size() > b.size() ? a.size() : b.size();
  unsigned diff = a.size() == b.size() ? 0u : 1u;
  for (size_t i = 0; i < n; ++i) {
    const unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
    const unsigned char y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
    diff |= static_cast<unsigned>(x ^ y);
  }
  return diff == 0;
}

bool AuthorizationMatches(std::string_view header, std::string_view api_key) {
  constexpr std::string_view kBearer = "Bearer ";
  const std::string_view token = header.substr(0, kBearer.size()) == kBearer ? header.substr(kBearer.size()) : "";
  return ConstantTimeEquals(token, api_key);
}

}  // namespace sieve::server
