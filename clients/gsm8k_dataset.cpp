// Loads a GSM8K split from JSON lines; see gsm8k_dataset.h.
#include "clients/gsm8k_dataset.h"

#include <fmt/format.h>

#include <fstream>
#include <nlohmann/json.hpp>

namespace sieve::clients {

StatusOr<std::vector<Gsm8kDoc>> LoadGsm8kSplit(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Status::NotFound(fmt::format("{}: cannot open GSM8K split", path));
  std::vector<Gsm8kDoc> docs;
  std::string line;
  for (int line_no = 1; std::getline(in, line); ++line_no) {
    if (line.empty()) continue;
    // The files store \uXXXX escapes (Janet\u2019s); decoding them as JSON gives the text lm-eval sees.
    const nlohmann::json j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (!j.is_object() || !j.contains("question") || !j["question"].is_string() || !j.contains("answer") ||
        !j["answer"].is_string()) {
      return Status::DataLoss(
          fmt::format("{}:{}: expected a JSON object with string \"question\" and \"answer\"", path, line_no));
    }
    docs.push_back({j["question"].get<std::string>(), j["answer"].get<std::string>()});
  }
  if (docs.empty()) return Status::DataLoss(fmt::format("{}: no GSM8K documents", path));
  return docs;
}

}  // namespace sieve::clients
