// SAX reader for tokenizer.json: a small DOM builder that diverts model.vocab and model.merges.
#include "text/tokenizer_json_reader.h"

#include <fmt/format.h>

namespace sieve::text {
namespace {

using nlohmann::json;

class Reader : public nlohmann::json_sax<json> {
 public:
  explicit Reader(TokenizerJson* out) : out_(out) {}
  const std::string& error() const { return error_; }

  bool null() override { return Value(json()); }
  bool boolean(bool v) override { return Value(v); }
  bool number_integer(number_integer_t v) override { return Integer(v); }
  bool number_unsigned(number_unsigned_t v) override { return Integer(static_cast<int64_t>(v)); }
  bool number_float(number_float_t v, const string_t&) override { return Value(v); }
  bool binary(binary_t&) override { return Fail("binary values are not JSON"); }
  bool string(string_t& s) override {
    if (mode_ == Mode::kMerges) return AddMerge(s);
    if (mode_ == Mode::kMergePair) {
      pair_.push_back(std::move(s));
      return true;
    }
    return Value(std::move(s));
  }
  bool key(string_t& k) override {
    key_ = std::move(k);
    return true;
  }
  bool start_object(std::size_t) override {
    if (mode_ != Mode::kDom) return Fail("unexpected object inside model.vocab or model.merges");
    if (stack_.size() == 2 && IsModel() && key_ == "vocab") {
      mode_ = Mode::kVocab;
      return true;
    }
    return Open(json::object());
  }
  bool end_object() override {
    if (mode_ == Mode::kVocab) {
      mode_ = Mode::kDom;
      return true;
    }
    stack_.pop_back();
    return true;
  }
  bool start_array(std::size_t) override {
    if (mode_ == Mode::kMerges) {
      mode_ = Mode::kMergePair;
      pair_.clear();
      return true;
    }
    if (mode_ != Mode::kDom) return Fail("unexpected array inside model.vocab or a merge pair");
    if (stack_.size() == 2 && IsModel() && key_ == "merges") {
      mode_ = Mode::kMerges;
      return true;
    }
    return Open(json::array());
  }
  bool end_array() override {
    if (mode_ == Mode::kMergePair) {
      if (pair_.size() != 2) return Fail("a merge pair must hold two strings");
      out_->merges.emplace_back(std::move(pair_[0]), std::move(pair_[1]));
      mode_ = Mode::kMerges;
      return true;
    }
    if (mode_ == Mode::kMerges) {
      mode_ = Mode::kDom;
      return true;
    }
    stack_.pop_back();
    return true;
  }
  bool parse_error(std::size_t position, const std::string&, const nlohmann::detail::exception& e) override {
    return Fail(fmt::format("at byte {}: {}", position, e.what()));
  }

 private:
  enum class Mode { kDom, kVocab, kMerges, kMergePair };

  // Called with two open containers: is the inner one the root's "model" member?
  bool IsModel() const { return path_model_; }

  bool Fail(std::string message) {
    if (error_.empty()) error_ = std::move(message);
    return false;
  }
  bool Integer(int64_t v) {
    if (mode_ == Mode::kVocab) {
      if (v < 0 || v > INT32_MAX) return Fail(fmt::format("model.vocab['{}']: id {} out of range", key_, v));
      out_->vocab.emplace(std::move(key_), static_cast<int32_t>(v));
      return true;
    }
    return Value(v);
  }
  bool AddMerge(const std::string& s) {
    const size_t space = s.find(' ', 1);
    if (space == std::string::npos) return Fail(fmt::format("model.merges: '{}' is not 'left right'", s));
    out_->merges.emplace_back(s.substr(0, space), s.substr(space + 1));
    return true;
  }
  bool Value(json v) {
    if (mode_ != Mode::kDom) return Fail("model.vocab values must be integer ids, merges strings");
    if (stack_.empty()) {
      out_->rest = std::move(v);
      return true;
    }
    json& top = *stack_.back();
    if (top.is_object()) {
      top[key_] = std::move(v);
    } else {
      top.push_back(std::move(v));
    }
    return true;
  }
  bool Open(json container) {
    if (stack_.empty()) {
      out_->rest = std::move(container);
      stack_.push_back(&out_->rest);
      return true;
    }
    json& top = *stack_.back();
    json* child;
    if (top.is_object()) {
      child = &(top[key_] = std::move(container));
      if (stack_.size() == 1) path_model_ = key_ == "model";
    } else {
      top.push_back(std::move(container));
      child = &top.back();
    }
    stack_.push_back(child);
    return true;
  }

  TokenizerJson* out_;
  std::vector<json*> stack_;  // open containers, root first
  std::string key_;
  Mode mode_ = Mode::kDom;
  bool path_model_ = false;  // the second stack entry is the root's "model" member
  std::vector<std::string> pair_;
  std::string error_;
};

}  // namespace

StatusOr<TokenizerJson> ReadTokenizerJson(const std::string& text) {
  TokenizerJson out;
  out.vocab.reserve(1 << 17);
  out.merges.reserve(1 << 17);
  Reader reader(&out);
  const bool ok = json::sax_parse(text, &reader, json::input_format_t::json, /*strict=*/true);
  if (!ok) return Status::InvalidArgument(reader.error().empty() ? "malformed JSON" : reader.error());
  if (!out.rest.is_object()) return Status::InvalidArgument("top level is not an object");
  return out;
}

}  // namespace sieve::text
