// Loading tokenizer.json and the encode/decode pipeline (huggingface/tokenizers tokenizer/mod.rs:
// added tokens -> normalizer -> pre-tokenizer -> model; decode: ids -> tokens -> ByteLevel decoder).
#include "text/tokenizer.h"

#include <fmt/format.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "text/added_tokens.h"
#include "text/bpe_model.h"
#include "text/byte_level.h"
#include "text/pre_tokenizer.h"
#include "text/tokenizer_json_reader.h"
#include "text/utf8.h"

namespace sieve::text {
namespace {

using nlohmann::json;

// The normalizer must be absent or an empty Sequence: DeepSeek-V3.x uses none (no NFC/NFKC).
Status CheckNormalizer(const json& n) {
  if (n.is_null()) return Status::Ok();
  if (n.value("type", "") == "Sequence" && n.value("normalizers", json::array()).empty()) return Status::Ok();
  return Status::InvalidArgument(fmt::format("tokenizer.json: unsupported normalizer {}", n.dump()));
}

// Collects the Split regexes; the sequence must end in a ByteLevel step that only maps bytes.
StatusOr<std::vector<std::string>> SplitPatterns(const json& pt) {
  const json steps = pt.value("type", "") == "Sequence" ? pt.value("pretokenizers", json::array()) : json::array({pt});
  std::vector<std::string> patterns;
  bool byte_level = false;
  for (const json& step : steps) {
    const std::string type = step.value("type", "");
    if (type == "Split" && !byte_level && step.value("behavior", "") == "Isolated" && !step.value("invert", false) &&
        step.contains("pattern") && step["pattern"].contains("Regex")) {
      patterns.push_back(step["pattern"]["Regex"].get<std::string>());
    } else if (type == "ByteLevel" && !byte_level && !step.value("use_regex", true) &&
               !step.value("add_prefix_space", true)) {
      byte_level = true;
    } else {
      return Status::InvalidArgument(fmt::format("tokenizer.json: unsupported pre-tokenizer step {}", step.dump()));
    }
  }
  if (!byte_level) return Status::InvalidArgument("tokenizer.json: pre-tokenizer has no ByteLevel step");
  return patterns;
}

}  // namespace

Tokenizer::Tokenizer()
    : raw_added_(std::make_unique<AddedTokenMatcher>()), normalized_added_(std::make_unique<AddedTokenMatcher>()) {}
Tokenizer::~Tokenizer() = default;

StatusOr<std::unique_ptr<Tokenizer>> Tokenizer::Load(const std::string& tokenizer_json_path) {
  // nlohmann::json throws on a field of the wrong type; a malformed file is a Status, not a crash.
  try {
    return LoadFile(tokenizer_json_path);
  } catch (const nlohmann::json::exception& e) {
    return Status::InvalidArgument(fmt::format("{}: {}", tokenizer_json_path, e.what()));
  }
}

StatusOr<std::unique_ptr<Tokenizer>> Tokenizer::LoadFile(const std::string& tokenizer_json_path) {
  std::ifstream in(tokenizer_json_path, std::ios::binary);
  if (!in) return Status::NotFound(fmt::format("{}: cannot open tokenizer file", tokenizer_json_path));
  std::stringstream buffer;
  buffer << in.rdbuf();
  auto parsed = ReadTokenizerJson(buffer.str());
  if (!parsed.ok()) return Status::InvalidArgument(fmt::format("{}: {}", tokenizer_json_path, parsed.status().message()));
  TokenizerJson& file = *parsed;
  const json& j = file.rest;
  static const json kNone = json::array();
  const json& model = j.contains("model") ? j["model"] : kNone;
  if (!model.is_object() || model.value("type", "") != "BPE" || file.vocab.empty())
    return Status::InvalidArgument(fmt::format("{}: model is not a BPE model with a vocab", tokenizer_json_path));
  if (model.value("byte_fallback", false) || !model.value("continuing_subword_prefix", json()).is_null())
    return Status::InvalidArgument(fmt::format("{}: BPE options not supported", tokenizer_json_path));
  if (j.value("decoder", json::object()).value("type", "") != "ByteLevel")
    return Status::InvalidArgument(fmt::format("{}: decoder is not ByteLevel", tokenizer_json_path));
  SIEVE_RETURN_IF_ERROR(CheckNormalizer(j.value("normalizer", json())));
  const json& added = j.contains("added_tokens") ? j["added_tokens"] : kNone;
  int32_t max_id = -1;
  for (const auto& [token, id] : file.vocab) max_id = std::max(max_id, id);
  for (const json& a : added) {
    if (!a.contains("id") || !a["id"].is_number_integer() || !a.contains("content") || !a["content"].is_string() ||
        a["id"].get<int64_t>() < 0 || a["id"].get<int64_t>() > INT32_MAX)
      return Status::InvalidArgument(fmt::format("{}: bad added token {}", tokenizer_json_path, a.dump()));
    max_id = std::max(max_id, a["id"].get<int32_t>());
  }

  std::unique_ptr<Tokenizer> t(new Tokenizer());
  SIEVE_ASSIGN_OR_RETURN(BpeModel bpe, BpeModel::Create(file.vocab, file.merges));
  t->bpe_ = std::make_unique<BpeModel>(std::move(bpe));
  SIEVE_ASSIGN_OR_RETURN(auto patterns, SplitPatterns(j.value("pre_tokenizer", json::object())));
  SIEVE_ASSIGN_OR_RETURN(t->pre_tokenizer_, PreTokenizer::Create(patterns));

  const size_t n = static_cast<size_t>(max_id) + 1;
  t->tokens_.resize(n);
  t->id_bytes_.resize(n);
  t->special_.assign(n, false);
  for (const auto& [token, id] : file.vocab) {
    // A token outside the byte-level alphabet decodes as its own UTF-8 (huggingface ByteLevel decoder).
    t->id_bytes_[id] = ByteLevelToBytes(token).value_or(token);
    t->tokens_[id] = token;
  }
  t->token_ids_ = std::move(file.vocab);
  for (const json& a : added) {
    const int32_t id = a["id"].get<int32_t>();
    const std::string& content = a["content"].get_ref<const std::string&>();
    t->tokens_[id] = content;
    t->id_bytes_[id] = ByteLevelToBytes(content).value_or(content);
    t->special_[id] = a.value("special", false);
    t->token_ids_[content] = id;
    (a.value("normalized", false) ? t->normalized_added_ : t->raw_added_)->Add(content, id);
  }
  return t;
}

StatusOr<std::unique_ptr<Tokenizer>> Tokenizer::LoadFromDir(const std::string& dir) {
  const std::string path = dir + "/tokenizer.json";
  std::ifstream probe(path);
  if (!probe)
    return Status::NotFound(fmt::format(
        "{} has no tokenizer.json; give a folder with the tokenizer files (--tokenizer DIR, e.g. assets/tokenizer)",
        dir));
  return Load(path);
}

std::vector<int32_t> Tokenizer::Encode(std::string_view text) const {
  std::string repaired;
  if (!IsValidUtf8(text)) {
    repaired = Utf8Lossy(text);
    text = repaired;
  }
  // Tokens with normalized=false are matched on the raw text first, the others on what remains
  // (the normalizer is the identity, so both passes see the same bytes).
  const std::vector<TextSegment> segments = normalized_added_->Split(raw_added_->Split({{text, -1}}));
  std::vector<int32_t> ids;
  ids.reserve(text.size() / 3);
  for (const TextSegment& seg : segments) {
    if (seg.id >= 0) {
      ids.push_back(seg.id);
      continue;
    }
    for (std::string_view piece : pre_tokenizer_->Split(seg.text)) bpe_->Encode(piece, &ids);
  }
  return ids;
}

std::string_view Tokenizer::IdBytes(int32_t id) const {
  if (id < 0 || static_cast<size_t>(id) >= id_bytes_.size()) return {};
  return id_bytes_[id];
}

std::string Tokenizer::Decode(const std::vector<int32_t>& ids, bool skip_special_tokens) const {
  std::string bytes;
  for (int32_t id : ids) {
    if (skip_special_tokens && IsSpecial(id)) continue;
    bytes.append(IdBytes(id));
  }
  return Utf8Lossy(bytes);
}

std::optional<int32_t> Tokenizer::TokenToId(std::string_view token) const {
  const auto it = token_ids_.find(std::string(token));
  if (it == token_ids_.end()) return std::nullopt;
  return it->second;
}

std::string Tokenizer::IdToToken(int32_t id) const {
  if (id < 0 || static_cast<size_t>(id) >= tokens_.size()) return {};
  return tokens_[id];
}

bool Tokenizer::IsSpecial(int32_t id) const {
  return id >= 0 && static_cast<size_t>(id) < special_.size() && special_[id];
}

}  // namespace sieve::text
