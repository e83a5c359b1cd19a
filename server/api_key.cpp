// Constant-time API key check.
#include "server/api_key.h"

namespace sieve::server {

bool AuthorizationMatches(std::string_view header, std::string_view api_key) {
  constexpr std::string_view kScheme = "Bearer ";
  // Always walk the whole expected key; a length mismatch still costs the same loop.
  unsigned diff = header.size() == kScheme.size() + api_key.size() ? 0u : 1u;
  for (size_t i = 0; i < kScheme.size() + api_key.size(); ++i) {
    const char want = i < kScheme.size() ? kScheme[i] : api_key[i - kScheme.size()];
    const char got = i < header.size() ? header[i] : '\0';
    diff |= static_cast<unsigned char>(want ^ got);
  }
  return diff == 0;
}

}  // namespace sieve::server
