// JsonGrammar: a JSON Schema subset compiled into a small graph of nodes that JsonRecognizer walks
// byte by byte, for structured outputs (OpenAI response_format json_schema / json_object, forced tool
// calls). Supported: type (object, array, string, number, integer, boolean, null, or a list of them),
// properties, required, additionalProperties, items, minItems, maxItems, enum, const, anyOf, oneOf
// (treated as anyOf, as xgrammar does). Annotations (title, description, default, examples, format,
// $schema, ...) are ignored, since they do not change which documents are valid (format is an annotation
// by default in JSON Schema 2020-12). Any other validation keyword (pattern, minimum, $ref, allOf, ...)
// is rejected with InvalidArgument naming it, rather than silently producing documents that fail it.
//
// Like xgrammar's default strict mode, an object schema that lists `properties` and says nothing about
// additionalProperties allows no other keys: a model cannot wander off into made-up keys.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"

namespace sieve::text {

enum class JsonNodeType : uint8_t { kObject, kArray, kString, kNumber, kInteger, kLiteral, kAnyOf };

struct JsonNode {
  JsonNodeType type = JsonNodeType::kAnyOf;
  // kObject: property names as JSON text with their quotes ("\"name\""), their value nodes, a bit per
  // required property, and the node of any other key's value (-1: no other keys).
  std::vector<std::string> property_keys;
  std::vector<int32_t> property_nodes;
  uint64_t required_mask = 0;
  int32_t additional = -1;
  // kArray
  int32_t items = -1;
  int64_t min_items = 0;
  int64_t max_items = -1;  // -1: unbounded
  // kLiteral: the JSON texts allowed (enum, const, true/false/null), compact.
  std::vector<std::string> literals;
  // kAnyOf: the alternatives.
  std::vector<int32_t> alternatives;
};

class JsonGrammar {
 public:
  // The most properties / literals one node may have (a bit each in the recognizer's frame).
  static constexpr size_t kMaxMembers = 64;

  // Compiles a JSON Schema; InvalidArgument (param-free) naming the offending keyword or value.
  static StatusOr<std::shared_ptr<const JsonGrammar>> FromSchema(const nlohmann::ordered_json& schema);
  // Any JSON object (response_format {"type": "json_object"}).
  static std::shared_ptr<const JsonGrammar> AnyObject();

  const JsonNode& node(int32_t i) const { return nodes_[static_cast<size_t>(i)]; }
  int32_t root() const { return root_; }

 private:
  class Compiler;
  std::vector<JsonNode> nodes_;
  int32_t root_ = 0;
};

}  // namespace sieve::text
