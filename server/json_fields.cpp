#include "server/json_fields.h"

#include <fmt/format.h>

#include <cmath>
#include <limits>

namespace sieve::server {

namespace {
Status WrongType(const std::string& path, const char* expected, const Json& got) {
  return Status::InvalidArgument(fmt::format("'{}' must be {}, got {}", path, expected, got.type_name())).WithParam(path);
}
}  // namespace

const Json* FindField(const Json& object, const std::string& key) {
  if (!object.is_object()) return nullptr;
  const auto it = object.find(key);
  if (it == object.end() || it->is_null()) return nullptr;
  return &*it;
}

StatusOr<std::optional<int64_t>> OptionalInt(const Json& object, const std::string& key, const std::string& path) {
  const Json* v = FindField(object, key);
  if (v == nullptr) return std::optional<int64_t>();
  if (v->is_number_integer()) {
    if (v->is_number_unsigned() && v->get<uint64_t>() > uint64_t(std::numeric_limits<int64_t>::max()))
      return Status::InvalidArgument(fmt::format("'{}' is out of range", path)).WithParam(path);
    return std::optional<int64_t>(v->get<int64_t>());
  }
  if (v->is_number_float()) {
    const double d = v->get<double>();
    if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 9e18) return std::optional<int64_t>(int64_t(d));
  }
  return WrongType(path, "an integer", *v);
}

StatusOr<std::optional<double>> OptionalNumber(const Json& object, const std::string& key, const std::string& path) {
  const Json* v = FindField(object, key);
  if (v == nullptr) return std::optional<double>();
  if (!v->is_number()) return WrongType(path, "a number", *v);
  return std::optional<double>(v->get<double>());
}

StatusOr<std::optional<bool>> OptionalBool(const Json& object, const std::string& key, const std::string& path) {
  const Json* v = FindField(object, key);
  if (v == nullptr) return std::optional<bool>();
  if (!v->is_boolean()) return WrongType(path, "a boolean", *v);
  return std::optional<bool>(v->get<bool>());
}

StatusOr<std::optional<std::string>> OptionalString(const Json& object, const std::string& key,
                                                    const std::string& path) {
  const Json* v = FindField(object, key);
  if (v == nullptr) return std::optional<std::string>();
  if (!v->is_string()) return WrongType(path, "a string", *v);
  return std::optional<std::string>(v->get<std::string>());
}

StatusOr<Json> ParseRequestBody(const std::string& body) {
  Json j = Json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Status::InvalidArgument("request body is not valid JSON");
  if (!j.is_object()) return Status::InvalidArgument("request body must be a JSON object");
  return j;
}

}  // namespace sieve::server
