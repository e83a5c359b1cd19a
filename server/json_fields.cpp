// Typed request-field readers.
#include "server/json_fields.h"

#include <fmt/format.h>

#include <cmath>

namespace sieve::server {

StatusOr<Json> ParseJsonObject(std::string_view body) {
  Json parsed = Json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) return Status::InvalidArgument("the request body is not valid JSON");
  if (!parsed.is_object())
    return Status::InvalidArgument(fmt::format("the request body must be a JSON object, got {}", parsed.type_name()));
  return parsed;
}

const Json* FindField(const Json& object, std::string_view key) {
  const auto it = object.find(key);
  return it == object.end() || it->is_null() ? nullptr : &*it;
}

std::optional<int64_t> AsInt(const Json& v) {
  if (v.is_number_integer()) return v.get<int64_t>();
  if (v.is_number_float()) {
    const double d = v.get<double>();
    // Pydantic (vLLM's request models) accepts a float with no fractional part for an int field.
    if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 9.0e15) return static_cast<int64_t>(d);
  }
  return std::nullopt;
}

Status WrongType(std::string_view param, std::string_view expected, const Json& got) {
  return Status::InvalidArgument(fmt::format("'{}' must be {}, got {}", param, expected, got.type_name()))
      .WithParam(std::string(param));
}

StatusOr<std::optional<int64_t>> IntField(const Json& object, std::string_view key) {
  const Json* v = FindField(object, key);
  if (v == nullptr) return std::optional<int64_t>();
  const std::optional<int64_t> i = AsInt(*v);
  if (!i) return WrongType(key, "an integer", *v);
  return i;
}

StatusOr<std::optional<double>> NumberField(const Json& object, std::string_view key) {
  const Json* v = FindField(object, key);
  if (v == nullptr) return std::optional<double>();
  if (!v->is_number()) return WrongType(key, "a number", *v);
  return std::optional<double>(v->get<double>());
}

StatusOr<std::optional<bool>> BoolField(const Json& object, std::string_view key) {
  const Json* v = FindField(object, key);
  if (v == nullptr) return std::optional<bool>();
  if (!v->is_boolean()) return WrongType(key, "a boolean", *v);
  return std::optional<bool>(v->get<bool>());
}

StatusOr<std::optional<std::string>> StringField(const Json& object, std::string_view key) {
  const Json* v = FindField(object, key);
  if (v == nullptr) return std::optional<std::string>();
  if (!v->is_string()) return WrongType(key, "a string", *v);
  return std::optional<std::string>(v->get<std::string>());
}

}  // namespace sieve::server
