// --api-key: every /v1/* request must carry `Authorization: Bearer <key>` (vLLM guards the same prefix;
// /health, /metrics and the tokenizer routes stay open). The comparison takes the same time whatever
// prefix of the key matches, so the key cannot be guessed byte by byte from response times.
#pragma once

#include <string_view>

namespace sieve::server {

bool ConstantTimeEquals(std::string_view a, std::string_view b);
// True when `authorization_header` is "Bearer <key>" for `api_key`.
bool AuthorizationMatches(std::string_view authorization_header, std::string_view api_key);

}  // namespace sieve::server
