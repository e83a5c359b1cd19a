// Ids of OpenAI objects ("cmpl-<32 hex>", "chatcmpl-<32 hex>"), random so they are unique across restarts.
#pragma once

#include <cstdint>
#include <string>

namespace sieve::server {

std::string NewRequestId(const std::string& prefix);
// Seconds since the Unix epoch, the `created` field.
int64_t UnixSeconds();

}  // namespace sieve::server
