// JsonRecognizer: an incremental, byte-level pushdown recognizer for the documents of a JsonGrammar.
// Feed() takes one byte and says whether the bytes so far are still a prefix of some valid document;
// IsComplete() says whether they already are one. It is the state that structured-output decoding
// advances per token and probes per vocabulary entry (the idea behind outlines-core and xgrammar:
// a grammar state walked along a byte trie of the vocabulary).
//
// The state is a set of stacks of frames: one stack normally, several only while anyOf alternatives
// are still undecided (each byte prunes the ones that cannot continue). Every live state can still be
// completed (no dead ends), so a constrained sequence is never left without an allowed byte.
//
// Whitespace between tokens is bounded: at most kMaxWhitespaceRun consecutive bytes of space, tab,
// CR or LF (like xgrammar's any_whitespace=false with a little slack), so that a model cannot ramble
// in whitespace. Nothing may follow a complete object, array or string. Strings must be valid UTF-8
// by lead/continuation byte shape (overlong forms and lone surrogate escapes are not checked).
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "text/json_grammar.h"

namespace sieve::text {

class JsonRecognizer {
 public:
  static constexpr int kMaxWhitespaceRun = 2;
  static constexpr size_t kMaxDepth = 64;  // frames per stack: bounds nesting of free-form values

  explicit JsonRecognizer(std::shared_ptr<const JsonGrammar> grammar);

  // False (and the state is then unusable) when `byte` cannot continue any valid document.
  bool Feed(uint8_t byte);
  bool Feed(std::string_view bytes);
  bool IsComplete() const;
  // True inside a string value between characters: then any token made only of plain string content
  // (no quote, backslash or control byte; whole UTF-8 characters) is allowed and leaves it there.
  bool InStringContent() const;
  // Makes this state equal to `other` (same grammar), reusing this one's storage: no allocation once warm.
  void CopyFrom(const JsonRecognizer& other);

  // Where a JSON string's lexer is (shared by string values and object keys).
  struct StringLexer {
    uint8_t phase = 0;       // 0 before the opening quote, 1 inside, 2 after a backslash
    uint8_t hex_left = 0;    // \uXXXX digits still due
    uint8_t utf8_left = 0;   // continuation bytes still due
    bool operator==(const StringLexer&) const = default;
  };

 private:
  enum class Kind : uint8_t { kValue, kObject, kKey, kArray, kString, kNumber, kLiteral };
  struct Frame {
    Kind kind = Kind::kValue;
    uint8_t phase = 0;       // kObject/kArray: container phase; kNumber: number phase
    StringLexer lex;         // kString, kKey
    int32_t node = 0;
    int32_t count = 0;       // kArray: items so far; kKey/kLiteral: bytes matched
    int32_t value_node = 0;  // kObject: node of the value after the current key
    uint64_t mask = 0;       // kObject: properties seen; kKey/kLiteral: candidates still matching
    bool operator==(const Frame&) const = default;
  };
  struct Stack {
    std::vector<Frame> frames;
    bool dead = false;
  };
  enum class Outcome { kConsumed, kRejected, kRedo };

  bool Advance(size_t stack, uint8_t byte);
  Outcome StepTop(Stack& s, uint8_t byte) const;
  Outcome StepValue(Stack& s, uint8_t byte) const;
  Outcome StepObject(Stack& s, uint8_t byte) const;
  Outcome StepKey(Stack& s, uint8_t byte) const;
  Outcome StepArray(Stack& s, uint8_t byte) const;
  Outcome StepNumber(Stack& s, uint8_t byte) const;
  Outcome StepLiteral(Stack& s, uint8_t byte) const;
  // The top frame's value is complete: pop it and advance its container.
  void PopValue(Stack& s) const;
  bool WhitespaceAllowed() const { return ws_run_ < kMaxWhitespaceRun; }
  static bool LiteralComplete(const JsonNode& n, const Frame& f);
  static bool NumberAccepting(const Frame& f);

  std::shared_ptr<const JsonGrammar> grammar_;
  std::vector<Stack> stacks_;
  size_t num_stacks_ = 0;  // stacks_[0, num_stacks_) are live; the rest is spare storage
  int ws_run_ = 0;         // consecutive whitespace bytes just fed
};

}  // namespace sieve::text
