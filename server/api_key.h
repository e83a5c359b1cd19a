// --api-key: requests must carry `Authorization: Bearer <key>`, compared in constant time so the reply
// time does not reveal how much of a guess was right.
#pragma once

#include <string>
#include <string_view>

namespace sieve::server {

// True when `authorization_header` is exactly "Bearer " + api_key.
bool AuthorizationMatches(std::string_view authorization_header, std::string_view api_key);

}  // namespace sieve::server
