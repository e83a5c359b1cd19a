// Typed reading of OpenAI request fields: each reader returns the value, nullopt when the key is absent or
// null (clients send explicit nulls for unset options), or InvalidArgument naming the field as `param`.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"

namespace sieve::server {

using Json = nlohmann::ordered_json;

// Parses a request body that must be a JSON object.
StatusOr<Json> ParseJsonObject(std::string_view body);

// The field `key` of `object`, or null when absent or null.
const Json* FindField(const Json& object, std::string_view key);

StatusOr<std::optional<int64_t>> IntField(const Json& object, std::string_view key);
StatusOr<std::optional<double>> NumberField(const Json& object, std::string_view key);
StatusOr<std::optional<bool>> BoolField(const Json& object, std::string_view key);
StatusOr<std::optional<std::string>> StringField(const Json& object, std::string_view key);

// Whole-number JSON value (5 or 5.0) as int64; nullopt for anything else.
std::optional<int64_t> AsInt(const Json& value);

// InvalidArgument("<param> must be <expected>, got <json type>") with param set.
Status WrongType(std::string_view param, std::string_view expected, const Json& got);

}  // namespace sieve::server
