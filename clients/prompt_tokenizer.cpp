// PromptTokenizer over text::Tokenizer; see prompt_tokenizer.h.
#include "clients/prompt_tokenizer.h"

#include <fstream>
#include <nlohmann/json.hpp>

#include "text/tokenizer.h"

namespace sieve::clients {
namespace {

class TextPromptTokenizer : public PromptTokenizer {
 public:
  TextPromptTokenizer(std::unique_ptr<text::Tokenizer> tokenizer, int num_special)
      : tokenizer_(std::move(tokenizer)), num_special_(num_special) {}
  std::vector<int32_t> Encode(const std::string& text) const override { return tokenizer_->Encode(text); }
  std::string Decode(const std::vector<int32_t>& ids) const override {
    return tokenizer_->Decode(ids, /*skip_special_tokens=*/false);
  }
  // Deviation: HF's vocab_size excludes added tokens; text::Tokenizer counts them (DeepSeek: 128815 ids vs
  // 128000). Special added tokens are excluded from `allowed` either way, so only the few non-special
  // added tokens can additionally appear in prompts.
  int64_t vocab_size() const override { return tokenizer_->vocab_size(); }
  bool IsSpecial(int32_t id) const override { return tokenizer_->IsSpecial(id); }
  int num_special_tokens_to_add() const override { return num_special_; }

 private:
  std::unique_ptr<text::Tokenizer> tokenizer_;
  int num_special_;
};

}  // namespace

StatusOr<std::unique_ptr<PromptTokenizer>> LoadPromptTokenizer(const std::string& dir) {
  SIEVE_ASSIGN_OR_RETURN(auto tokenizer, text::Tokenizer::LoadFromDir(dir));
  int num_special = 0;
  std::ifstream in(dir + "/tokenizer_config.json");
  if (in) {
    const auto config = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
    for (const char* key : {"add_bos_token", "add_eos_token"}) {
      if (config.is_object() && config.contains(key) && config[key].is_boolean() && config[key].get<bool>()) {
        ++num_special;
      }
    }
  }
  return std::unique_ptr<PromptTokenizer>(new TextPromptTokenizer(std::move(tokenizer), num_special));
}

}  // namespace sieve::clients
