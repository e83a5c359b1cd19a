// Typed reads of optional fields of a JSON request body. Absent and null both mean "not given" (clients
// such as vllm bench send explicit nulls); a present value of the wrong type is InvalidArgument with the
// field's path as `param`, so it reaches the client as a 400 naming the field.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "core/status.h"

namespace sieve::server {

using Json = nlohmann::ordered_json;

// The value at `key`, or null when absent or null.
const Json* FindField(const Json& object, const std::string& key);

// Integers also accept a number with no fractional part (5.0), as pydantic does for vLLM.
StatusOr<std::optional<int64_t>> OptionalInt(const Json& object, const std::string& key, const std::string& path);
StatusOr<std::optional<double>> OptionalNumber(const Json& object, const std::string& key, const std::string& path);
StatusOr<std::optional<bool>> OptionalBool(const Json& object, const std::string& key, const std::string& path);
StatusOr<std::optional<std::string>> OptionalString(const Json& object, const std::string& key,
                                                    const std::string& path);

// Same, with the path equal to the key (top-level fields).
inline StatusOr<std::optional<int64_t>> OptionalInt(const Json& o, const std::string& key) { return OptionalInt(o, key, key); }
inline StatusOr<std::optional<double>> OptionalNumber(const Json& o, const std::string& key) {
  return OptionalNumber(o, key, key);
}
inline StatusOr<std::optional<bool>> OptionalBool(const Json& o, const std::string& key) { return OptionalBool(o, key, key); }
inline StatusOr<std::optional<std::string>> OptionalString(const Json& o, const std::string& key) {
  return OptionalString(o, key, key);
}

// Parses a request body; malformed JSON or a non-object is InvalidArgument.
StatusOr<Json> ParseRequestBody(const std::string& body);

}  // namespace sieve::server
