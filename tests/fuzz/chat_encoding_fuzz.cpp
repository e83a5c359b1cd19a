// libFuzzer target: any request body (messages JSON) either encodes or returns a Status for every chat
// family; nothing throws or crashes.
#include <cstdint>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "text/chat_encoding.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto request = nlohmann::ordered_json::parse(data, data + size, nullptr, /*allow_exceptions=*/false);
  if (request.is_discarded()) return 0;
  for (auto family : {sieve::text::ChatFamily::kDeepseekV32, sieve::text::ChatFamily::kDeepseekV32Exp,
                      sieve::text::ChatFamily::kDeepseekV32Speciale}) {
    auto prompt = sieve::text::EncodeChat(request, family, {});
    if (!prompt.ok() && prompt.status().code() != sieve::StatusCode::kInvalidArgument) std::abort();
  }
  return 0;
}
