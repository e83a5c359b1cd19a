// OpenAI logprobs objects.
#include "server/logprobs_format.h"

namespace sieve::server {

namespace {

std::string TokenText(const text::Tokenizer& tokenizer, int32_t id) { return tokenizer.Decode({id}, false); }

// A logprob as JSON; -inf (a token the sampler could never pick) has no JSON form, so it becomes the
// most negative finite float, as vLLM clamps it (max(logprob, -9999.0)).
Json LogprobValue(float logprob) { return std::max(logprob, -9999.0f); }

Json Bytes(const std::string& s) {
  Json out = Json::array();
  for (unsigned char c : s) out.push_back(static_cast<int>(c));
  return out;
}

}  // namespace

CompletionLogprobs::CompletionLogprobs(const text::Tokenizer& tokenizer) : tokenizer_(tokenizer) {}

void CompletionLogprobs::Append(int32_t token_id, const engine::TokenLogprob* lp) {
  const std::string token = TokenText(tokenizer_, token_id);
  tokens_.push_back(token);
  text_offset_.push_back(offset_);
  offset_ += static_cast<int64_t>(token.size());
  if (lp == nullptr) {
    token_logprobs_.push_back(nullptr);
    top_logprobs_.push_back(nullptr);
    return;
  }
  token_logprobs_.push_back(LogprobValue(lp->logprob));
  // The chosen token is always in the map, so a greedy check (its logprob == the map's max) works.
  Json top = Json::object();
  for (const auto& [id, logprob] : lp->top) top[TokenText(tokenizer_, id)] = LogprobValue(logprob);
  top[token] = LogprobValue(lp->logprob);
  top_logprobs_.push_back(std::move(top));
}

void CompletionLogprobs::AppendPrompt(const std::vector<int32_t>& prompt_ids,
                                      const std::vector<std::optional<engine::TokenLogprob>>& logprobs) {
  for (size_t i = 0; i < prompt_ids.size(); ++i)
    Append(prompt_ids[i], i < logprobs.size() && logprobs[i] ? &*logprobs[i] : nullptr);
}

void CompletionLogprobs::AppendGenerated(const std::vector<engine::TokenLogprob>& logprobs) {
  for (const engine::TokenLogprob& lp : logprobs) Append(lp.token_id, &lp);
}

Json CompletionLogprobs::Take() {
  Json out = {{"tokens", std::move(tokens_)},
              {"token_logprobs", std::move(token_logprobs_)},
              {"top_logprobs", std::move(top_logprobs_)},
              {"text_offset", std::move(text_offset_)}};
  tokens_ = token_logprobs_ = top_logprobs_ = text_offset_ = Json::array();
  return out;
}

Json ChatLogprobsContent(const text::Tokenizer& tokenizer, const std::vector<engine::TokenLogprob>& logprobs) {
  Json content = Json::array();
  for (const engine::TokenLogprob& lp : logprobs) {
    const std::string token = TokenText(tokenizer, lp.token_id);
    Json top = Json::array();
    for (const auto& [id, logprob] : lp.top) {
      const std::string t = TokenText(tokenizer, id);
      top.push_back({{"token", t}, {"logprob", LogprobValue(logprob)}, {"bytes", Bytes(t)}});
    }
    content.push_back(
        {{"token", token}, {"logprob", LogprobValue(lp.logprob)}, {"bytes", Bytes(token)}, {"top_logprobs", std::move(top)}});
  }
  return content;
}

}  // namespace sieve::server
