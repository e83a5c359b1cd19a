// JsonRecognizer: valid and invalid documents for each schema keyword, partial prefixes, the whitespace
// bound, and schema compile errors. Each accepting case has a rejecting twin (negative control).
#include "text/json_recognizer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>

namespace sieve::text {
namespace {

using Json = nlohmann::ordered_json;

std::shared_ptr<const JsonGrammar> Compile(const char* schema) {
  auto g = JsonGrammar::FromSchema(Json::parse(schema));
  EXPECT_TRUE(g.ok()) << g.status().ToString();
  return g.ok() ? *g : JsonGrammar::AnyObject();
}

// Whether `doc` is a complete document of `g` (every byte accepted and complete at the end).
bool Accepts(const std::shared_ptr<const JsonGrammar>& g, std::string_view doc) {
  JsonRecognizer r(g);
  return r.Feed(doc) && r.IsComplete();
}

// Whether `prefix` can still be extended to a document.
bool IsPrefix(const std::shared_ptr<const JsonGrammar>& g, std::string_view prefix) {
  JsonRecognizer r(g);
  return r.Feed(prefix);
}

TEST(JsonRecognizerTest, AnyObjectAcceptsObjectsOnly) {
  auto g = JsonGrammar::AnyObject();
  EXPECT_TRUE(Accepts(g, R"({})"));
  EXPECT_TRUE(Accepts(g, R"({"a": [1, -2.5e+3, true, null, "x\n\u00e9"], "b": {"c": {}}})"));
  EXPECT_TRUE(Accepts(g, "{\"h\u00e9\": \"\xe2\x82\xac\"}"));
  EXPECT_FALSE(Accepts(g, R"([])"));
  EXPECT_FALSE(Accepts(g, R"("x")"));
  EXPECT_FALSE(IsPrefix(g, R"({"a": 01})"));    // leading zero
  EXPECT_FALSE(IsPrefix(g, R"({"a": tru)" "e1}"));
  EXPECT_FALSE(IsPrefix(g, R"({"a": 1,})"));    // trailing comma
  EXPECT_FALSE(IsPrefix(g, R"({'a': 1})"));
  EXPECT_FALSE(IsPrefix(g, "{\"a\": \"\x01\"}"));  // raw control character
  EXPECT_FALSE(IsPrefix(g, "{\"a\": \"\x80\"}"));  // stray continuation byte
  EXPECT_FALSE(IsPrefix(g, R"({"a": "\x"})"));    // bad escape
  EXPECT_FALSE(IsPrefix(g, R"({} )"));            // nothing after a complete document
}

TEST(JsonRecognizerTest, PartialPrefixesAreIncomplete) {
  auto g = JsonGrammar::AnyObject();
  const std::string doc = R"({"k": [1.5, "s", false]})";
  for (size_t i = 0; i < doc.size(); ++i) {
    JsonRecognizer r(g);
    ASSERT_TRUE(r.Feed(std::string_view(doc).substr(0, i))) << i;
    EXPECT_FALSE(r.IsComplete()) << doc.substr(0, i);
  }
  EXPECT_TRUE(Accepts(g, doc));
}

TEST(JsonRecognizerTest, WhitespaceRunIsBounded) {
  auto g = JsonGrammar::AnyObject();
  EXPECT_TRUE(Accepts(g, "{\n \"a\" :  1 ,\t\"b\":2\r\n}"));
  EXPECT_FALSE(IsPrefix(g, "{   "));        // three in a row
  EXPECT_FALSE(IsPrefix(g, "{\"a\":1   "));
  EXPECT_TRUE(IsPrefix(g, "{\"a\":\"   \""));  // inside a string whitespace is content
}

TEST(JsonRecognizerTest, PropertiesRequiredAndStrictByDefault) {
  auto g = Compile(R"({"type": "object", "properties": {"ok": {"type": "boolean"}, "n": {"type": "integer"}},
                      "required": ["ok"]})");
  EXPECT_TRUE(Accepts(g, R"({"ok": true})"));
  EXPECT_TRUE(Accepts(g, R"({"n": -3, "ok": false})"));
  EXPECT_FALSE(Accepts(g, R"({"n": 3})"));          // ok is required
  EXPECT_FALSE(IsPrefix(g, R"({"n": 3})"));         // cannot close without it
  EXPECT_FALSE(IsPrefix(g, R"({"x")"));             // no other keys (strict default)
  EXPECT_FALSE(IsPrefix(g, R"({"ok": true, "ok")")); // no repeated key
  EXPECT_FALSE(IsPrefix(g, R"({"n": 1.5)"));        // integer
  EXPECT_FALSE(IsPrefix(g, R"({"ok": 1)"));
  EXPECT_FALSE(IsPrefix(g, R"({"ok": true, "n": 1,)"));  // no key left after a comma
}

TEST(JsonRecognizerTest, AdditionalProperties) {
  auto open = Compile(R"({"type": "object", "properties": {"a": {"type": "null"}}, "additionalProperties": true})");
  EXPECT_TRUE(Accepts(open, R"({"a": null, "zz": [1]})"));
  EXPECT_FALSE(IsPrefix(open, R"({"a": 1)"));
  auto typed = Compile(R"({"type": "object", "additionalProperties": {"type": "string"}})");
  EXPECT_TRUE(Accepts(typed, R"({"x": "1", "y\"": "2"})"));
  EXPECT_FALSE(IsPrefix(typed, R"({"x": 1)"));
  auto closed = Compile(R"({"type": "object", "properties": {}, "additionalProperties": false})");
  EXPECT_TRUE(Accepts(closed, "{}"));
  EXPECT_FALSE(IsPrefix(closed, R"({")"));
  auto untyped = Compile(R"({"type": "object"})");
  EXPECT_TRUE(Accepts(untyped, R"({"any": {"thing": []}})"));
}

TEST(JsonRecognizerTest, EnumConstAndLiterals) {
  auto g = Compile(R"({"enum": ["red", "green", 12, 1, null]})");
  for (const char* ok : {R"("red")", R"("green")", "12", "1", "null"}) EXPECT_TRUE(Accepts(g, ok)) << ok;
  for (const char* bad : {R"("blue")", "2", "123", "true", R"("re")"}) EXPECT_FALSE(Accepts(g, bad)) << bad;
  auto c = Compile(R"({"type": "object", "properties": {"v": {"const": {"x": [1]}}}, "required": ["v"]})");
  EXPECT_TRUE(Accepts(c, R"({"v": {"x":[1]}})"));
  EXPECT_FALSE(IsPrefix(c, R"({"v": {"x": [1]}})"));  // const matches the compact text
  auto b = Compile(R"({"type": "boolean"})");
  EXPECT_TRUE(Accepts(b, "false"));
  EXPECT_FALSE(Accepts(b, "null"));
}

TEST(JsonRecognizerTest, NumbersAndIntegers) {
  auto num = Compile(R"({"type": "number"})");
  for (const char* ok : {"0", "-0", "12", "1.25", "-1e9", "2E-3", "0.5e+1"}) EXPECT_TRUE(Accepts(num, ok)) << ok;
  for (const char* bad : {"-", "1.", ".5", "01", "1e", "+1", "1.2.3"}) EXPECT_FALSE(Accepts(num, bad)) << bad;
  auto integer = Compile(R"({"type": "integer"})");
  EXPECT_TRUE(Accepts(integer, "-42"));
  EXPECT_FALSE(Accepts(integer, "4.0"));
  EXPECT_FALSE(Accepts(integer, "4e2"));
}

TEST(JsonRecognizerTest, ArraysWithItemBounds) {
  auto g = Compile(R"({"type": "array", "items": {"type": "string"}, "minItems": 1, "maxItems": 2})");
  EXPECT_TRUE(Accepts(g, R"(["a"])"));
  EXPECT_TRUE(Accepts(g, R"(["a", "b"])"));
  EXPECT_FALSE(IsPrefix(g, "[]"));
  EXPECT_FALSE(IsPrefix(g, R"(["a", "b",)"));
  EXPECT_FALSE(IsPrefix(g, "[1"));
  auto any = Compile(R"({"type": "array"})");
  EXPECT_TRUE(Accepts(any, R"([[], {}, 1, "x"])"));
}

TEST(JsonRecognizerTest, AnyOfTypeListsAndOneOf) {
  auto g = Compile(R"({"anyOf": [{"type": "string"}, {"type": "object", "properties": {"a": {"type": "integer"}}}]})");
  EXPECT_TRUE(Accepts(g, R"("s")"));
  EXPECT_TRUE(Accepts(g, R"({"a": 1})"));
  EXPECT_FALSE(Accepts(g, "1"));
  auto list = Compile(R"({"type": ["integer", "null"]})");
  EXPECT_TRUE(Accepts(list, "null"));
  EXPECT_TRUE(Accepts(list, "7"));
  EXPECT_FALSE(Accepts(list, R"("7")"));
  // vLLM's tool_choice "required" shape: anyOf branches beside "type": "object".
  auto calls = Compile(R"({"type": "array", "minItems": 1, "items": {"type": "object", "anyOf": [
      {"properties": {"name": {"type": "string", "enum": ["f"]}, "parameters": {"type": "object",
        "properties": {"x": {"type": "integer"}}, "required": ["x"]}}, "required": ["name", "parameters"]},
      {"properties": {"name": {"type": "string", "enum": ["g"]}, "parameters": {"type": "object",
        "properties": {"y": {"type": "boolean"}}, "required": ["y"]}}, "required": ["name", "parameters"]}]}})");
  EXPECT_TRUE(Accepts(calls, R"([{"name": "f", "parameters": {"x": 1}}, {"name": "g", "parameters": {"y": true}}])"));
  EXPECT_FALSE(IsPrefix(calls, R"([{"name": "f", "parameters": {"y")"));
  EXPECT_FALSE(IsPrefix(calls, R"([{"name": "h")"));
  EXPECT_FALSE(IsPrefix(calls, "[]"));
}

TEST(JsonRecognizerTest, AnnotationsIgnoredOtherKeywordsRejected) {
  EXPECT_TRUE(JsonGrammar::FromSchema(Json::parse(
      R"({"type": "string", "title": "T", "description": "d", "format": "date", "default": "x"})")).ok());
  for (const char* keyword : {"pattern", "minimum", "$ref", "allOf", "minLength", "uniqueItems"}) {
    Json schema = {{"type", "string"}, {keyword, 1}};
    auto g = JsonGrammar::FromSchema(schema);
    ASSERT_FALSE(g.ok()) << keyword;
    EXPECT_NE(g.status().message().find(keyword), std::string::npos) << g.status().ToString();
  }
  EXPECT_FALSE(JsonGrammar::FromSchema(Json::parse(R"({"type": "object", "required": ["a"]})")).ok());
  EXPECT_FALSE(JsonGrammar::FromSchema(Json::parse(R"({"enum": []})")).ok());
  EXPECT_FALSE(JsonGrammar::FromSchema(Json::parse(R"({"type": "date"})")).ok());
  EXPECT_FALSE(JsonGrammar::FromSchema(Json::parse(R"({"type": "array", "minItems": 3, "maxItems": 2})")).ok());
}

// Random walks over allowed bytes: every reachable state can continue or is complete (no dead ends),
// and every complete state is a document nlohmann parses. Walks prefer closing bytes as they grow, so
// they do reach complete states (counted: the check is not vacuous).
TEST(JsonRecognizerTest, RandomWalksNeverDeadEndAndCompleteDocumentsParse) {
  const char* schemas[] = {
      R"({"type": "object"})",
      R"({"type": "object", "properties": {"a": {"type": "array", "items": {"type": ["integer", "string"]}, "maxItems": 2},
          "b": {"enum": ["x", 1.5, null]}}, "required": ["a", "b"]})",
      R"({"type": "array", "minItems": 1, "items": {"anyOf": [{"type": "boolean"}, {"type": "object",
          "properties": {"k": {"type": "number"}}, "required": ["k"]}]}})"};
  std::mt19937 rng(7);
  int completed = 0;
  for (const char* schema : schemas) {
    auto g = Compile(schema);
    for (int walk = 0; walk < 40; ++walk) {
      JsonRecognizer r(g);
      std::string doc;
      for (int step = 0; step < 200; ++step) {
        std::vector<uint8_t> next;
        for (int b = 0; b < 256; ++b) {
          JsonRecognizer probe = r;
          if (probe.Feed(static_cast<uint8_t>(b))) next.push_back(static_cast<uint8_t>(b));
        }
        if (r.IsComplete()) {
          EXPECT_TRUE(nlohmann::json::accept(doc)) << doc;
          ++completed;
          break;
        }
        ASSERT_FALSE(next.empty()) << "dead end after: " << doc;
        // No exponents: random ones overflow double, which RFC 8259 allows but nlohmann refuses.
        if (!doc.empty() && doc.back() >= '0' && doc.back() <= '9')
          std::erase_if(next, [](uint8_t b) { return b == 'e' || b == 'E'; });
        // Past 40 bytes, take a closing byte when one is allowed, so that walks end.
        uint8_t b = next[rng() % next.size()];
        for (uint8_t closer : {'"', '}', ']', '0', 'e', 'l'})
          if (doc.size() > 40 && std::find(next.begin(), next.end(), closer) != next.end()) b = closer;
        ASSERT_TRUE(r.Feed(b));
        doc.push_back(static_cast<char>(b));
      }
    }
  }
  EXPECT_GT(completed, 60);
}

}  // namespace
}  // namespace sieve::text
