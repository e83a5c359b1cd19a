// JsonGrammar: JSON Schema -> nodes. One recursive pass; node indices (not references) are kept
// across the recursion because nodes_ grows while compiling.
#include "text/json_grammar.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <string_view>

namespace sieve::text {

namespace {

using Json = nlohmann::ordered_json;

// Keywords that constrain documents and are enforced here.
constexpr std::array<std::string_view, 11> kEnforced = {
    "type", "properties", "required", "additionalProperties", "items", "minItems", "maxItems",
    "enum", "const",      "anyOf",    "oneOf"};
// Keywords that only annotate: ignored (JSON Schema 2020-12 treats `format` as an annotation by default;
// unreferenced $defs change nothing, and a $ref into them is rejected as unsupported).
constexpr std::array<std::string_view, 14> kAnnotations = {
    "title",    "description", "default",    "examples", "format",    "$schema", "$id",
    "$comment", "deprecated",  "readOnly",   "writeOnly", "strict",   "$defs",   "definitions"};

bool In(std::string_view key, auto const& list) { return std::find(list.begin(), list.end(), key) != list.end(); }

Status Unsupported(std::string_view what) {
  return Status::InvalidArgument(fmt::format("JSON schema: {}", what));
}

}  // namespace

class JsonGrammar::Compiler {
 public:
  explicit Compiler(JsonGrammar& g) : g_(g) {}

  StatusOr<int32_t> Compile(const Json& schema, int depth) {
    if (depth > 32) return Unsupported("nesting deeper than 32 levels");
    if (schema.is_boolean()) {
      if (!schema.get<bool>()) return Unsupported("the schema `false` allows no document");
      return Any();
    }
    if (!schema.is_object()) return Unsupported(fmt::format("a schema must be an object or a boolean, got {}", schema.dump()));
    for (const auto& [key, value] : schema.items()) {
      if (!In(key, kEnforced) && !In(key, kAnnotations))
        return Unsupported(fmt::format("unsupported keyword '{}' (supported: type, properties, required, "
                                       "additionalProperties, items, minItems, maxItems, enum, const, anyOf, oneOf)", key));
    }
    if (schema.contains("const")) return Literals({schema["const"]});
    if (schema.contains("enum")) {
      const Json& values = schema["enum"];
      if (!values.is_array() || values.empty()) return Unsupported("'enum' must be a non-empty list");
      return Literals(std::vector<Json>(values.begin(), values.end()));
    }
    for (const char* key : {"anyOf", "oneOf"}) {
      if (schema.contains(key)) return Alternatives(schema, key, depth);
    }
    if (!schema.contains("type")) return Untyped(schema, depth);
    const Json& type = schema["type"];
    if (type.is_array()) {
      if (type.empty()) return Unsupported("'type' must not be an empty list");
      std::vector<int32_t> alternatives;
      for (const Json& t : type) {
        Json one = schema;
        one["type"] = t;
        SIEVE_ASSIGN_OR_RETURN(const int32_t alt, Compile(one, depth + 1));
        alternatives.push_back(alt);
      }
      return AnyOf(std::move(alternatives));
    }
    if (!type.is_string()) return Unsupported("'type' must be a string or a list of strings");
    const std::string name = type.get<std::string>();
    if (name == "object") return Object(schema, depth);
    if (name == "array") return Array(schema, depth);
    if (name == "string") return Add(JsonNodeType::kString);
    if (name == "number") return Add(JsonNodeType::kNumber);
    if (name == "integer") return Add(JsonNodeType::kInteger);
    if (name == "boolean") return Literals({Json(true), Json(false)});
    if (name == "null") return Literals({Json(nullptr)});
    return Unsupported(fmt::format("unknown type '{}'", name));
  }

  // Any JSON value: an object or array of any values, a string, a number, true, false or null.
  int32_t Any() {
    if (any_ >= 0) return any_;
    any_ = Add(JsonNodeType::kAnyOf);
    const int32_t object = Add(JsonNodeType::kObject);
    g_.nodes_[object].additional = any_;
    const int32_t array = Add(JsonNodeType::kArray);
    g_.nodes_[array].items = any_;
    const int32_t string = Add(JsonNodeType::kString);
    const int32_t number = Add(JsonNodeType::kNumber);
    const int32_t literal = Add(JsonNodeType::kLiteral);
    g_.nodes_[literal].literals = {"true", "false", "null"};
    g_.nodes_[any_].alternatives = {object, array, string, number, literal};
    return any_;
  }

  int32_t Add(JsonNodeType type) {
    g_.nodes_.push_back(JsonNode{});
    g_.nodes_.back().type = type;
    return static_cast<int32_t>(g_.nodes_.size() - 1);
  }

 private:
  // No `type`: inferred from the keywords present, as validators do (they apply only to that type).
  StatusOr<int32_t> Untyped(const Json& schema, int depth) {
    for (const char* key : {"properties", "required", "additionalProperties"})
      if (schema.contains(key)) return Object(schema, depth);
    for (const char* key : {"items", "minItems", "maxItems"})
      if (schema.contains(key)) return Array(schema, depth);
    return Any();
  }

  StatusOr<int32_t> Literals(const std::vector<Json>& values) {
    if (values.size() > kMaxMembers) return Unsupported(fmt::format("more than {} enum values", kMaxMembers));
    const int32_t node = Add(JsonNodeType::kLiteral);
    for (const Json& v : values) g_.nodes_[node].literals.push_back(v.dump());
    return node;
  }

  StatusOr<int32_t> AnyOf(std::vector<int32_t> alternatives) {
    const int32_t node = Add(JsonNodeType::kAnyOf);
    g_.nodes_[node].alternatives = std::move(alternatives);
    return node;
  }

  // anyOf / oneOf: each branch is the schema's other keywords with the branch's on top (vLLM's
  // tool_choice "required" schema puts "type": "object" beside the anyOf).
  StatusOr<int32_t> Alternatives(const Json& schema, const char* key, int depth) {
    const Json& branches = schema[key];
    if (!branches.is_array() || branches.empty()) return Unsupported(fmt::format("'{}' must be a non-empty list", key));
    Json base = schema;
    base.erase(key);
    std::vector<int32_t> alternatives;
    for (const Json& branch : branches) {
      Json merged = base;
      if (branch.is_object()) {
        for (const auto& [k, v] : branch.items()) merged[k] = v;
      } else if (!branch.is_boolean()) {
        return Unsupported(fmt::format("each '{}' branch must be a schema", key));
      } else if (!branch.get<bool>()) {
        continue;
      }
      SIEVE_ASSIGN_OR_RETURN(const int32_t alt, Compile(merged, depth + 1));
      alternatives.push_back(alt);
    }
    if (alternatives.empty()) return Unsupported(fmt::format("every '{}' branch is `false`", key));
    return AnyOf(std::move(alternatives));
  }

  StatusOr<int32_t> Object(const Json& schema, int depth) {
    std::vector<std::string> keys;
    std::vector<int32_t> values;
    const Json* properties = schema.contains("properties") ? &schema["properties"] : nullptr;
    if (properties != nullptr) {
      if (!properties->is_object()) return Unsupported("'properties' must be an object");
      if (properties->size() > kMaxMembers) return Unsupported(fmt::format("more than {} properties", kMaxMembers));
      for (const auto& [name, sub] : properties->items()) {
        keys.push_back(Json(name).dump());
        SIEVE_ASSIGN_OR_RETURN(const int32_t value, Compile(sub, depth + 1));
        values.push_back(value);
      }
    }
    uint64_t required = 0;
    if (schema.contains("required")) {
      const Json& names = schema["required"];
      if (!names.is_array()) return Unsupported("'required' must be a list of property names");
      for (const Json& name : names) {
        const std::string key = name.is_string() ? Json(name).dump() : "";
        const auto it = std::find(keys.begin(), keys.end(), key);
        if (it == keys.end())
          return Unsupported(fmt::format("required property {} is not in 'properties'", name.dump()));
        required |= uint64_t{1} << (it - keys.begin());
      }
    }
    int32_t additional = properties == nullptr ? Any() : -1;  // strict by default when properties are listed
    if (schema.contains("additionalProperties")) {
      const Json& extra = schema["additionalProperties"];
      if (extra.is_boolean()) {
        additional = extra.get<bool>() ? Any() : -1;
      } else {
        SIEVE_ASSIGN_OR_RETURN(additional, Compile(extra, depth + 1));
      }
    }
    const int32_t node = Add(JsonNodeType::kObject);
    JsonNode& n = g_.nodes_[node];
    n.property_keys = std::move(keys);
    n.property_nodes = std::move(values);
    n.required_mask = required;
    n.additional = additional;
    return node;
  }

  StatusOr<int32_t> Array(const Json& schema, int depth) {
    int32_t items = -1;
    if (!schema.contains("items")) {
      items = Any();
    } else if (schema["items"].is_array()) {
      return Unsupported("tuple 'items' (a list of schemas) is not supported");
    } else {
      SIEVE_ASSIGN_OR_RETURN(items, Compile(schema["items"], depth + 1));
    }
    int64_t bounds[2] = {0, -1};
    const char* names[2] = {"minItems", "maxItems"};
    for (int i = 0; i < 2; ++i) {
      if (!schema.contains(names[i])) continue;
      const Json& v = schema[names[i]];
      if (!v.is_number_integer() || v.get<int64_t>() < 0)
        return Unsupported(fmt::format("'{}' must be a non-negative integer", names[i]));
      bounds[i] = v.get<int64_t>();
    }
    if (bounds[1] >= 0 && bounds[0] > bounds[1]) return Unsupported("'minItems' is larger than 'maxItems'");
    const int32_t node = Add(JsonNodeType::kArray);
    g_.nodes_[node].items = items;
    g_.nodes_[node].min_items = bounds[0];
    g_.nodes_[node].max_items = bounds[1];
    return node;
  }

  JsonGrammar& g_;
  int32_t any_ = -1;
};

StatusOr<std::shared_ptr<const JsonGrammar>> JsonGrammar::FromSchema(const nlohmann::ordered_json& schema) {
  auto g = std::make_shared<JsonGrammar>();
  Compiler compiler(*g);
  SIEVE_ASSIGN_OR_RETURN(g->root_, compiler.Compile(schema, 0));
  return std::shared_ptr<const JsonGrammar>(std::move(g));
}

std::shared_ptr<const JsonGrammar> JsonGrammar::AnyObject() {
  auto g = std::make_shared<JsonGrammar>();
  Compiler compiler(*g);
  const int32_t any = compiler.Any();
  g->root_ = g->node(any).alternatives[0];  // the object alternative of "any value"
  return g;
}

}  // namespace sieve::text
