// Shared by the text tests: reading the JSONL vectors of ../shared/fixtures and loading the tokenizer
// once per test binary.
#pragma once

#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/test_support.h"
#include "text/tokenizer.h"

namespace sieve::text::testing {

inline std::vector<nlohmann::json> ReadJsonl(const std::string& path) {
  std::vector<nlohmann::json> rows;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line))
    if (!line.empty()) rows.push_back(nlohmann::json::parse(line));
  return rows;
}

// The fixture tokenizer, or nullptr when ../shared is absent (the caller skips).
inline const Tokenizer* FixtureTokenizer() {
  static const std::unique_ptr<Tokenizer> tokenizer = [] {
    std::unique_ptr<Tokenizer> t;
    if (auto fx = test::SharedFixture("tokenizer")) {
      auto loaded = Tokenizer::Load(*fx + "/tokenizer.json");
      if (loaded.ok()) t = std::move(*loaded);
    }
    return t;
  }();
  return tokenizer.get();
}

}  // namespace sieve::text::testing
