// Reads tokenizer.json in one streaming (SAX) pass. The two big tables, model.vocab (128k entries) and
// model.merges (128k entries), go straight into flat containers; everything else (added tokens,
// normalizer, pre-tokenizer, decoder) is kept as JSON. Building a full nlohmann DOM for the file cost
// ~4x more than this and dominated tokenizer load time.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"

namespace sieve::text {

struct TokenizerJson {
  std::unordered_map<std::string, int32_t> vocab;             // model.vocab
  std::vector<std::pair<std::string, std::string>> merges;     // model.merges in rank order
  nlohmann::json rest;                                         // the file without the two tables
};

// Parses the text of a tokenizer.json.
StatusOr<TokenizerJson> ReadTokenizerJson(const std::string& text);

}  // namespace sieve::text
