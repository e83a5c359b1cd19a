#include "server/tokenizer_routes.h"

#include <fmt/format.h>
#include <httplib.h>

#include "server/completion_request.h"
#include "server/http_reply.h"
#include "server/server_state.h"
#include "text/tokenizer.h"

namespace sieve::server {

namespace {

using Json = nlohmann::ordered_json;

Status NeedTokenizer(const ServerState& state) {
  if (state.limits.tokenizer != nullptr) return Status::Ok();
  return Status::FailedPrecondition("this checkpoint has no tokenizer");
}

StatusOr<std::vector<int32_t>> TokenizeBody(const ServerState& state, const Json& body) {
  SIEVE_RETURN_IF_ERROR(CheckModelName(body, state.limits));
  const text::Tokenizer& tokenizer = *state.limits.tokenizer;
  if (FindField(body, "messages") != nullptr) {
    SIEVE_ASSIGN_OR_RETURN(const text::ChatPrompt prompt,
                           text::EncodeChat(body, state.chat.family, state.chat.chat_options));
    return tokenizer.Encode(prompt.text);
  }
  SIEVE_ASSIGN_OR_RETURN(const auto prompt, OptionalString(body, "prompt"));
  if (!prompt) return Status::InvalidArgument("give 'prompt' (a string) or 'messages'").WithParam("prompt");
  // vLLM's default for /tokenize is add_special_tokens=true: BOS first.
  SIEVE_ASSIGN_OR_RETURN(const auto add_special, OptionalBool(body, "add_special_tokens"));
  std::vector<int32_t> ids;
  if (add_special.value_or(true)) ids.push_back(state.limits.bos_token_id);
  for (int32_t id : tokenizer.Encode(*prompt)) ids.push_back(id);
  return ids;
}

}  // namespace

void HandleTokenize(ServerState& state, const httplib::Request& req, httplib::Response& res) {
  if (Status s = NeedTokenizer(state); !s.ok()) return SendError(res, s);
  auto body = ParseRequestBody(req.body);
  if (!body.ok()) return SendError(res, body.status());
  auto ids = TokenizeBody(state, *body);
  if (!ids.ok()) return SendError(res, ids.status());
  SendJson(res, {{"count", ids->size()}, {"max_model_len", state.limits.max_model_len}, {"tokens", *ids}});
}

void HandleDetokenize(ServerState& state, const httplib::Request& req, httplib::Response& res) {
  if (Status s = NeedTokenizer(state); !s.ok()) return SendError(res, s);
  auto body = ParseRequestBody(req.body);
  if (!body.ok()) return SendError(res, body.status());
  if (Status s = CheckModelName(*body, state.limits); !s.ok()) return SendError(res, s);
  const Json* tokens = FindField(*body, "tokens");
  if (tokens == nullptr || !tokens->is_array())
    return SendError(res, Status::InvalidArgument("'tokens' must be a list of token ids").WithParam("tokens"));
  std::vector<int32_t> ids;
  for (size_t i = 0; i < tokens->size(); ++i) {
    const Json& t = (*tokens)[i];
    if (!t.is_number_integer() || t.get<int64_t>() < 0 || t.get<int64_t>() >= state.limits.vocab_size)
      return SendError(res, Status::InvalidArgument(fmt::format("token {} is not in the vocabulary [0, {})", t.dump(),
                                                                state.limits.vocab_size))
                                .WithParam(fmt::format("tokens[{}]", i)));
    ids.push_back(t.get<int32_t>());
  }
  SendJson(res, {{"prompt", state.limits.tokenizer->Decode(ids, /*skip_special_tokens=*/false)}});
}

void HandleTokenizerInfo(ServerState& state, const httplib::Request& /*req*/, httplib::Response& res) {
  if (Status s = NeedTokenizer(state); !s.ok()) return SendError(res, s);
  const text::Tokenizer& t = *state.limits.tokenizer;
  SendJson(res, {{"tokenizer_class", "PreTrainedTokenizerFast"},
                 {"bos_token", t.IdToToken(state.limits.bos_token_id)},
                 {"eos_token", t.IdToToken(state.limits.eos_token_id)},
                 {"pad_token", t.IdToToken(state.limits.eos_token_id)},
                 {"model_max_length", state.limits.max_model_len},
                 {"vocab_size", t.vocab_size()},
                 {"chat_template", nullptr}});
}

}  // namespace sieve::server
