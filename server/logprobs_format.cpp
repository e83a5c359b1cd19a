#include "server/logprobs_format.h"

#include <cmath>
#include <string>

#include "text/tokenizer.h"

namespace sieve::server {

namespace {

using Json = nlohmann::ordered_json;

std::string TokenText(const text::Tokenizer* tokenizer, int32_t id) {
  return tokenizer ? tokenizer->Decode({id}, /*skip_special_tokens=*/false) : "token_id:" + std::to_string(id);
}

// -inf (a masked token) is not valid JSON; OpenAI-compatible servers clamp it (vLLM uses -9999.0).
double Finite(float logprob) { return std::isfinite(logprob) ? double(logprob) : -9999.0; }

Json Bytes(const std::string& s) {
  Json b = Json::array();
  for (unsigned char c : s) b.push_back(int(c));
  return b;
}

}  // namespace

void CompletionLogprobs::Add(int32_t token, const std::optional<engine::TokenLogprob>& lp) {
  const std::string text = TokenText(tokenizer_, token);
  tokens_.push_back(text);
  text_offset_.push_back(offset_);
  offset_ += static_cast<int64_t>(text.size());
  if (!lp) {
    token_logprobs_.push_back(nullptr);
    top_logprobs_.push_back(nullptr);
    return;
  }
  token_logprobs_.push_back(Finite(lp->logprob));
  Json top = Json::object();
  top[text] = Finite(lp->logprob);  // vLLM lists the chosen token among the top ones
  for (const auto& [id, logprob] : lp->top) top[TokenText(tokenizer_, id)] = Finite(logprob);
  top_logprobs_.push_back(std::move(top));
}

void CompletionLogprobs::AddPrompt(const std::vector<int32_t>& prompt_ids,
                                   const std::vector<std::optional<engine::TokenLogprob>>& logprobs) {
  for (size_t i = 0; i < prompt_ids.size(); ++i) Add(prompt_ids[i], i < logprobs.size() ? logprobs[i] : std::nullopt);
}

void CompletionLogprobs::AddGenerated(const std::vector<engine::TokenLogprob>& logprobs) {
  for (const engine::TokenLogprob& lp : logprobs) Add(lp.token_id, lp);
}

nlohmann::ordered_json CompletionLogprobs::Take() {
  Json out = {{"tokens", std::move(tokens_)},
              {"token_logprobs", std::move(token_logprobs_)},
              {"top_logprobs", std::move(top_logprobs_)},
              {"text_offset", std::move(text_offset_)}};
  tokens_ = token_logprobs_ = top_logprobs_ = text_offset_ = Json::array();
  return out;
}

nlohmann::ordered_json ChatLogprobContent(const text::Tokenizer* tokenizer, const std::vector<engine::TokenLogprob>& logprobs) {
  Json content = Json::array();
  for (const engine::TokenLogprob& lp : logprobs) {
    const std::string text = TokenText(tokenizer, lp.token_id);
    Json top = Json::array();
    for (const auto& [id, logprob] : lp.top) {
      const std::string t = TokenText(tokenizer, id);
      top.push_back({{"token", t}, {"logprob", Finite(logprob)}, {"bytes", Bytes(t)}});
    }
    content.push_back({{"token", text}, {"logprob", Finite(lp.logprob)}, {"bytes", Bytes(text)}, {"top_logprobs", std::move(top)}});
  }
  return content;
}

}  // namespace sieve::server
