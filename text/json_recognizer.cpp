// JsonRecognizer: the pushdown automaton. Each frame kind owns the bytes of its construct; a frame
// whose construct ended at the previous byte (a number, a literal) pops and hands the byte to its
// container (Outcome::kRedo). JSON grammar: RFC 8259 sections 2-7.
#include "text/json_recognizer.h"

#include <bit>
#include <utility>

namespace sieve::text {

namespace {

bool IsWhitespace(uint8_t b) { return b == ' ' || b == '\t' || b == '\n' || b == '\r'; }
bool IsDigit(uint8_t b) { return b >= '0' && b <= '9'; }
bool IsHex(uint8_t b) { return IsDigit(b) || (b >= 'a' && b <= 'f') || (b >= 'A' && b <= 'F'); }

// Container phases (kObject, kArray).
enum : uint8_t { kOpen = 1, kAfterKey, kAfterValue, kInValue, kAfterComma };
// Number phases (RFC 8259 section 6: -? int frac? exp?).
enum : uint8_t { kStart, kMinus, kZero, kIntDigits, kDot, kFracDigits, kExp, kExpSign, kExpDigits };

enum class Lexed { kContinue, kClosed, kRejected };

uint64_t AllBits(size_t n) { return n >= 64 ? ~uint64_t{0} : (uint64_t{1} << n) - 1; }

// Candidates of `mask` whose text has `byte` at `pos`.
uint64_t MatchingCandidates(const std::vector<std::string>& texts, uint64_t mask, int32_t pos, uint8_t byte) {
  uint64_t out = 0;
  for (uint64_t m = mask; m != 0; m &= m - 1) {
    const int c = std::countr_zero(m);
    const std::string& t = texts[static_cast<size_t>(c)];
    if (static_cast<size_t>(pos) < t.size() && static_cast<uint8_t>(t[static_cast<size_t>(pos)]) == byte) out |= uint64_t{1} << c;
  }
  return out;
}

// The index of a candidate of `mask` that is exactly `length` bytes long, or -1.
int CompleteCandidate(const std::vector<std::string>& texts, uint64_t mask, int32_t length) {
  for (uint64_t m = mask; m != 0; m &= m - 1) {
    const int c = std::countr_zero(m);
    if (texts[static_cast<size_t>(c)].size() == static_cast<size_t>(length)) return c;
  }
  return -1;
}

// One byte of a JSON string (RFC 8259 section 7), opening quote included.
Lexed LexString(JsonRecognizer::StringLexer& lex, uint8_t byte) {
  if (lex.utf8_left > 0) {
    if ((byte & 0xC0) != 0x80) return Lexed::kRejected;
    --lex.utf8_left;
    return Lexed::kContinue;
  }
  if (lex.hex_left > 0) {
    if (!IsHex(byte)) return Lexed::kRejected;
    --lex.hex_left;
    return Lexed::kContinue;
  }
  if (lex.phase == 0) {
    if (byte != '"') return Lexed::kRejected;
    lex.phase = 1;
    return Lexed::kContinue;
  }
  if (lex.phase == 2) {  // after a backslash
    lex.phase = 1;
    if (byte == 'u') lex.hex_left = 4;
    else if (std::string_view("\"\\/bfnrt").find(static_cast<char>(byte)) == std::string_view::npos) return Lexed::kRejected;
    return Lexed::kContinue;
  }
  if (byte == '"') return Lexed::kClosed;
  if (byte == '\\') lex.phase = 2;
  else if (byte < 0x20) return Lexed::kRejected;  // control characters must be escaped
  else if (byte >= 0xC2 && byte <= 0xDF) lex.utf8_left = 1;
  else if (byte >= 0xE0 && byte <= 0xEF) lex.utf8_left = 2;
  else if (byte >= 0xF0 && byte <= 0xF4) lex.utf8_left = 3;
  else if (byte >= 0x80) return Lexed::kRejected;  // a stray continuation byte or an invalid lead byte
  return Lexed::kContinue;
}

}  // namespace

JsonRecognizer::JsonRecognizer(std::shared_ptr<const JsonGrammar> grammar) : grammar_(std::move(grammar)) {
  stacks_.resize(1);
  stacks_[0].frames.push_back(Frame{Kind::kValue, 0, {}, grammar_->root(), 0, 0, 0});
  num_stacks_ = 1;
}

void JsonRecognizer::CopyFrom(const JsonRecognizer& other) {
  if (grammar_ != other.grammar_) grammar_ = other.grammar_;
  if (stacks_.size() < other.num_stacks_) stacks_.resize(other.num_stacks_);
  for (size_t i = 0; i < other.num_stacks_; ++i) {
    stacks_[i].frames = other.stacks_[i].frames;  // reuses capacity
    stacks_[i].dead = false;
  }
  num_stacks_ = other.num_stacks_;
  ws_run_ = other.ws_run_;
}

bool JsonRecognizer::Feed(std::string_view bytes) {
  for (char c : bytes)
    if (!Feed(static_cast<uint8_t>(c))) return false;
  return true;
}

bool JsonRecognizer::Feed(uint8_t byte) {
  const size_t n = num_stacks_;
  for (size_t i = 0; i < n; ++i) Advance(i, byte);
  // Drop dead stacks and duplicates (alternatives that became the same state), keeping storage.
  size_t live = 0;
  for (size_t i = 0; i < num_stacks_; ++i) {
    if (stacks_[i].dead) continue;
    bool duplicate = false;
    for (size_t j = 0; j < live && !duplicate; ++j) duplicate = stacks_[j].frames == stacks_[i].frames;
    if (duplicate) continue;
    if (i != live) std::swap(stacks_[live], stacks_[i]);
    ++live;
  }
  for (size_t i = live; i < num_stacks_; ++i) stacks_[i].dead = false;
  num_stacks_ = live;
  ws_run_ = IsWhitespace(byte) ? ws_run_ + 1 : 0;
  return live > 0;
}

bool JsonRecognizer::IsComplete() const {
  for (size_t i = 0; i < num_stacks_; ++i) {
    const std::vector<Frame>& f = stacks_[i].frames;
    if (f.empty()) return true;
    if (f.size() != 1) continue;
    if (f[0].kind == Kind::kNumber && NumberAccepting(f[0])) return true;
    if (f[0].kind == Kind::kLiteral && LiteralComplete(grammar_->node(f[0].node), f[0])) return true;
  }
  return false;
}

bool JsonRecognizer::InStringContent() const {
  if (num_stacks_ != 1 || stacks_[0].frames.empty()) return false;
  const Frame& top = stacks_[0].frames.back();
  return top.kind == Kind::kString && top.lex == StringLexer{1, 0, 0};
}

// Runs `byte` on stack `index` in place. An undecided anyOf forks the stack, one copy per alternative.
bool JsonRecognizer::Advance(size_t index, uint8_t byte) {
  for (;;) {
    if (stacks_[index].frames.empty()) {  // the document is complete: nothing may follow
      stacks_[index].dead = true;
      return false;
    }
    const Frame& top = stacks_[index].frames.back();
    const JsonNode& n = grammar_->node(top.node);
    if (top.kind == Kind::kValue && n.type == JsonNodeType::kAnyOf) {
      for (size_t k = 1; k < n.alternatives.size(); ++k) {
        const size_t fork = num_stacks_++;
        if (fork == stacks_.size()) {
          Stack copy = stacks_[index];
          stacks_.push_back(std::move(copy));
        } else {
          stacks_[fork].frames = stacks_[index].frames;
          stacks_[fork].dead = false;
        }
        stacks_[fork].frames.back().node = n.alternatives[k];
        Advance(fork, byte);
      }
      stacks_[index].frames.back().node = n.alternatives[0];
      continue;
    }
    switch (StepTop(stacks_[index], byte)) {
      case Outcome::kConsumed: return true;
      case Outcome::kRejected: stacks_[index].dead = true; return false;
      case Outcome::kRedo: break;
    }
  }
}

JsonRecognizer::Outcome JsonRecognizer::StepTop(Stack& s, uint8_t byte) const {
  switch (s.frames.back().kind) {
    case Kind::kValue: return StepValue(s, byte);
    case Kind::kObject: return StepObject(s, byte);
    case Kind::kKey: return StepKey(s, byte);
    case Kind::kArray: return StepArray(s, byte);
    case Kind::kNumber: return StepNumber(s, byte);
    case Kind::kLiteral: return StepLiteral(s, byte);
    case Kind::kString: break;
  }
  switch (LexString(s.frames.back().lex, byte)) {
    case Lexed::kRejected: return Outcome::kRejected;
    case Lexed::kClosed: PopValue(s); return Outcome::kConsumed;
    case Lexed::kContinue: break;
  }
  return Outcome::kConsumed;
}

JsonRecognizer::Outcome JsonRecognizer::StepValue(Stack& s, uint8_t byte) const {
  if (IsWhitespace(byte)) return WhitespaceAllowed() ? Outcome::kConsumed : Outcome::kRejected;
  Frame& top = s.frames.back();
  const JsonNode& n = grammar_->node(top.node);
  const bool can_nest = s.frames.size() < kMaxDepth;
  switch (n.type) {
    case JsonNodeType::kObject:
      if (byte != '{' || !can_nest) return Outcome::kRejected;
      top = Frame{Kind::kObject, kOpen, {}, top.node, 0, 0, 0};
      return Outcome::kConsumed;
    case JsonNodeType::kArray:
      if (byte != '[' || !can_nest) return Outcome::kRejected;
      top = Frame{Kind::kArray, kOpen, {}, top.node, 0, 0, 0};
      return Outcome::kConsumed;
    case JsonNodeType::kString:
      if (byte != '"') return Outcome::kRejected;
      top = Frame{Kind::kString, 0, StringLexer{1, 0, 0}, top.node, 0, 0, 0};
      return Outcome::kConsumed;
    case JsonNodeType::kNumber:
    case JsonNodeType::kInteger:
      top = Frame{Kind::kNumber, kStart, {}, top.node, 0, 0, 0};
      return Outcome::kRedo;
    case JsonNodeType::kLiteral:
      top = Frame{Kind::kLiteral, 0, {}, top.node, 0, 0, AllBits(n.literals.size())};
      return Outcome::kRedo;
    case JsonNodeType::kAnyOf: break;  // expanded by Advance before any byte reaches it
  }
  return Outcome::kRejected;
}

JsonRecognizer::Outcome JsonRecognizer::StepObject(Stack& s, uint8_t byte) const {
  Frame& top = s.frames.back();
  const JsonNode& n = grammar_->node(top.node);
  if (IsWhitespace(byte)) return WhitespaceAllowed() ? Outcome::kConsumed : Outcome::kRejected;
  const uint64_t unseen = AllBits(n.property_keys.size()) & ~top.mask;
  const bool key_possible = unseen != 0 || n.additional >= 0;
  const bool can_close = (n.required_mask & ~top.mask) == 0;
  switch (top.phase) {
    case kOpen:
    case kAfterComma:
      if (byte == '}' && top.phase == kOpen && can_close) {
        PopValue(s);
        return Outcome::kConsumed;
      }
      if (byte != '"' || !key_possible) return Outcome::kRejected;
      s.frames.push_back(Frame{Kind::kKey, 0, StringLexer{}, top.node, 0, 0, unseen});
      return Outcome::kRedo;
    case kAfterKey:
      if (byte != ':') return Outcome::kRejected;
      top.phase = kInValue;
      s.frames.push_back(Frame{Kind::kValue, 0, {}, top.value_node, 0, 0, 0});
      return Outcome::kConsumed;
    case kAfterValue:
      if (byte == ',' && key_possible) {
        top.phase = kAfterComma;
        return Outcome::kConsumed;
      }
      if (byte == '}' && can_close) {
        PopValue(s);
        return Outcome::kConsumed;
      }
      return Outcome::kRejected;
    default: return Outcome::kRejected;
  }
}

// A key is matched two ways at once: literally against the unseen property names (JSON text with
// quotes), and, when other keys are allowed, as any JSON string. A key equal to an unseen property
// name is that property; any other string key is an additional property.
JsonRecognizer::Outcome JsonRecognizer::StepKey(Stack& s, uint8_t byte) const {
  Frame& key = s.frames.back();
  const JsonNode& n = grammar_->node(key.node);
  const uint64_t matching = MatchingCandidates(n.property_keys, key.mask, key.count, byte);
  const int property = CompleteCandidate(n.property_keys, matching, key.count + 1);
  bool closed = property >= 0;
  if (n.additional >= 0) {
    const Lexed r = LexString(key.lex, byte);
    if (r == Lexed::kRejected) return Outcome::kRejected;
    closed = r == Lexed::kClosed;
  } else if (matching == 0) {
    return Outcome::kRejected;
  }
  if (!closed) {
    key.mask = matching;
    ++key.count;
    return Outcome::kConsumed;
  }
  s.frames.pop_back();
  Frame& object = s.frames.back();
  if (property >= 0) object.mask |= uint64_t{1} << property;
  object.value_node = property >= 0 ? n.property_nodes[static_cast<size_t>(property)] : n.additional;
  object.phase = kAfterKey;
  return Outcome::kConsumed;
}

JsonRecognizer::Outcome JsonRecognizer::StepArray(Stack& s, uint8_t byte) const {
  Frame& top = s.frames.back();
  const JsonNode& n = grammar_->node(top.node);
  if (IsWhitespace(byte)) return WhitespaceAllowed() ? Outcome::kConsumed : Outcome::kRejected;
  const bool can_close = top.count >= n.min_items;
  const bool can_add = n.max_items < 0 || top.count < n.max_items;
  if (byte == ']' && can_close && top.phase != kInValue) {
    PopValue(s);
    return Outcome::kConsumed;
  }
  if (top.phase == kOpen) {
    if (!can_add) return Outcome::kRejected;
    top.phase = kInValue;
    s.frames.push_back(Frame{Kind::kValue, 0, {}, n.items, 0, 0, 0});
    return Outcome::kRedo;
  }
  if (top.phase == kAfterValue && byte == ',' && can_add) {
    top.phase = kInValue;
    s.frames.push_back(Frame{Kind::kValue, 0, {}, n.items, 0, 0, 0});
    return Outcome::kConsumed;
  }
  return Outcome::kRejected;
}

JsonRecognizer::Outcome JsonRecognizer::StepNumber(Stack& s, uint8_t byte) const {
  Frame& top = s.frames.back();
  const bool integer = grammar_->node(top.node).type == JsonNodeType::kInteger;
  const bool digit = IsDigit(byte);
  const bool exponent = !integer && (byte == 'e' || byte == 'E');
  int next = -1;
  switch (top.phase) {
    case kStart: next = byte == '-' ? kMinus : byte == '0' ? kZero : digit ? kIntDigits : -1; break;
    case kMinus: next = byte == '0' ? kZero : digit ? kIntDigits : -1; break;
    case kZero: next = !integer && byte == '.' ? kDot : exponent ? kExp : -1; break;
    case kIntDigits: next = digit ? kIntDigits : !integer && byte == '.' ? kDot : exponent ? kExp : -1; break;
    case kDot: next = digit ? kFracDigits : -1; break;
    case kFracDigits: next = digit ? kFracDigits : exponent ? kExp : -1; break;
    case kExp: next = byte == '+' || byte == '-' ? kExpSign : digit ? kExpDigits : -1; break;
    case kExpSign:
    case kExpDigits: next = digit ? kExpDigits : -1; break;
    default: break;
  }
  if (next >= 0) {
    top.phase = static_cast<uint8_t>(next);
    return Outcome::kConsumed;
  }
  if (!NumberAccepting(top)) return Outcome::kRejected;
  PopValue(s);  // the number ended before this byte: the container takes it
  return Outcome::kRedo;
}

JsonRecognizer::Outcome JsonRecognizer::StepLiteral(Stack& s, uint8_t byte) const {
  Frame& top = s.frames.back();
  const JsonNode& n = grammar_->node(top.node);
  const uint64_t matching = MatchingCandidates(n.literals, top.mask, top.count, byte);
  if (matching != 0) {
    top.mask = matching;
    ++top.count;
    return Outcome::kConsumed;
  }
  if (!LiteralComplete(n, top)) return Outcome::kRejected;
  PopValue(s);  // the literal ended before this byte
  return Outcome::kRedo;
}

void JsonRecognizer::PopValue(Stack& s) const {
  s.frames.pop_back();
  if (s.frames.empty()) return;
  Frame& container = s.frames.back();
  if (container.kind == Kind::kArray) ++container.count;
  container.phase = kAfterValue;
}

bool JsonRecognizer::LiteralComplete(const JsonNode& n, const Frame& f) {
  return CompleteCandidate(n.literals, f.mask, f.count) >= 0;
}

bool JsonRecognizer::NumberAccepting(const Frame& f) {
  return f.phase == kZero || f.phase == kIntDigits || f.phase == kFracDigits || f.phase == kExpDigits;
}

}  // namespace sieve::text
