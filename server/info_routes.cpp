// Model, version, tokenizer and metrics endpoints.
#include "server/info_routes.h"

#include <fmt/format.h>

#include "server/http_reply.h"
#include "server/json_fields.h"
#include "server/request_id.h"
#include "server/sampling_fields.h"
#include "text/chat_encoding.h"

namespace sieve::server {

namespace {
// The process start, reported as the model's `created`.
const int64_t kStartedAt = UnixSeconds();
}  // namespace

void HandleModels(httplib::Response& res, const ServingContext& context) {
  Json model = {{"id", context.served_model_name},
                {"object", "model"},
                {"created", kStartedAt},
                {"owned_by", "sieve"},
                {"root", context.model_dir},
                {"parent", nullptr},
                {"max_model_len", context.limits.max_model_len}};
  ReplyJson(res, {{"object", "list"}, {"data", Json::array({model})}});
}

void HandleVersion(httplib::Response& res) { ReplyJson(res, {{"version", SIEVE_VERSION}}); }

void HandleTokenizerInfo(httplib::Response& res, const ServingContext& context) {
  const text::Tokenizer& t = *context.tokenizer;
  ReplyJson(res, {{"tokenizer_class", "LlamaTokenizerFast"},
                  {"bos_token", t.IdToToken(context.bos_token_id)},
                  {"eos_token", t.IdToToken(context.eos_token_id)},
                  {"pad_token", t.IdToToken(context.eos_token_id)},
                  {"add_bos_token", true},
                  {"model_max_length", context.limits.max_model_len},
                  {"vocab_size", t.vocab_size()}});
}

// {"prompt": str, "add_special_tokens": bool = true} or {"messages": [...], ...chat fields}.
void HandleTokenize(const httplib::Request& req, httplib::Response& res, const ServingContext& context) {
  StatusOr<Json> body = ParseJsonObject(req.body);
  if (!body.ok()) return ReplyError(res, body.status());
  if (Status s = CheckModel(*body, context); !s.ok()) return ReplyError(res, s);
  std::vector<int32_t> ids;
  if (FindField(*body, "messages") != nullptr) {
    StatusOr<text::ChatPrompt> prompt = text::EncodeChat(*body, context.chat_family, {});
    if (!prompt.ok()) return ReplyError(res, prompt.status());
    ids = context.tokenizer->Encode(prompt->text);
  } else {
    StatusOr<std::optional<std::string>> prompt = StringField(*body, "prompt");
    if (!prompt.ok()) return ReplyError(res, prompt.status());
    if (!*prompt) return ReplyError(res, Status::InvalidArgument("'prompt' or 'messages' is required").WithParam("prompt"));
    StatusOr<std::optional<bool>> special = BoolField(*body, "add_special_tokens");
    if (!special.ok()) return ReplyError(res, special.status());
    if (special->value_or(true)) ids.push_back(context.bos_token_id);
    for (int32_t id : context.tokenizer->Encode(**prompt)) ids.push_back(id);
  }
  ReplyJson(res, {{"count", ids.size()}, {"max_model_len", context.limits.max_model_len}, {"tokens", ids}, {"token_strs", nullptr}});
}

// {"tokens": [int]} -> {"prompt": str}.
void HandleDetokenize(const httplib::Request& req, httplib::Response& res, const ServingContext& context) {
  StatusOr<Json> body = ParseJsonObject(req.body);
  if (!body.ok()) return ReplyError(res, body.status());
  if (Status s = CheckModel(*body, context); !s.ok()) return ReplyError(res, s);
  const Json* tokens = FindField(*body, "tokens");
  if (tokens == nullptr || !tokens->is_array())
    return ReplyError(res, Status::InvalidArgument("'tokens' must be a list of token ids").WithParam("tokens"));
  std::vector<int32_t> ids;
  for (size_t i = 0; i < tokens->size(); ++i) {
    const std::optional<int64_t> id = AsInt((*tokens)[i]);
    if (!id || *id < 0 || *id >= context.limits.vocab_size)
      return ReplyError(res, Status::InvalidArgument(fmt::format("tokens[{}] is not a token id in [0, {})", i,
                                                                 context.limits.vocab_size))
                                 .WithParam(fmt::format("tokens[{}]", i)));
    ids.push_back(static_cast<int32_t>(*id));
  }
  ReplyJson(res, {{"prompt", context.tokenizer->Decode(ids, /*skip_special_tokens=*/false)}});
}

void HandleMetrics(httplib::Response& res, ServerState& state) {
  res.set_content(state.metrics.Render(state.engine.Stats()), "text/plain; version=0.0.4; charset=utf-8");
}

}  // namespace sieve::server
