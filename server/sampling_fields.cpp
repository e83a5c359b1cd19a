// Shared sampling fields of the completion and chat requests.
#include "server/sampling_fields.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <climits>
#include <type_traits>

namespace sieve::server {

namespace {

// Stores a present field; integers saturate to int's range, which keeps an out-of-range value out of range
// for engine::ValidateRequest to report.
template <typename T, typename U>
Status Assign(StatusOr<std::optional<U>> field, T* out) {
  if (!field.ok()) return field.status();
  if (!*field) return Status::Ok();
  if constexpr (std::is_same_v<T, int>)
    *out = static_cast<int>(std::clamp<int64_t>(**field, INT32_MIN, INT32_MAX));
  else
    *out = static_cast<T>(**field);
  return Status::Ok();
}

// `stop`: a string or a list of strings (OpenAI allows up to 4; vLLM any number).
Status ReadStop(const Json& body, std::vector<std::string>* stop) {
  const Json* v = FindField(body, "stop");
  if (v == nullptr) return Status::Ok();
  if (v->is_string()) {
    stop->push_back(v->get<std::string>());
    return Status::Ok();
  }
  if (!v->is_array()) return WrongType("stop", "a string or a list of strings", *v);
  for (size_t i = 0; i < v->size(); ++i) {
    if (!(*v)[i].is_string()) return WrongType(fmt::format("stop[{}]", i), "a string", (*v)[i]);
    stop->push_back((*v)[i].get<std::string>());
  }
  return Status::Ok();
}

// `logit_bias`: {"token id as a string": bias}, as OpenAI sends it.
Status ReadLogitBias(const Json& body, std::map<int32_t, float>* bias) {
  const Json* v = FindField(body, "logit_bias");
  if (v == nullptr) return Status::Ok();
  if (!v->is_object()) return WrongType("logit_bias", "an object of token id -> bias", *v);
  for (const auto& [key, value] : v->items()) {
    int64_t id = -1;
    const auto [end, error] = std::from_chars(key.data(), key.data() + key.size(), id);
    if (error != std::errc() || end != key.data() + key.size() || id < 0 || id > INT32_MAX)
      return Status::InvalidArgument(fmt::format("logit_bias key '{}' is not a token id", key)).WithParam("logit_bias");
    if (!value.is_number()) return WrongType(fmt::format("logit_bias.{}", key), "a number", value);
    (*bias)[static_cast<int32_t>(id)] = value.get<float>();
  }
  return Status::Ok();
}

Status ReadStopTokenIds(const Json& body, std::vector<int32_t>* ids) {
  const Json* v = FindField(body, "stop_token_ids");
  if (v == nullptr) return Status::Ok();
  if (!v->is_array()) return WrongType("stop_token_ids", "a list of token ids", *v);
  for (size_t i = 0; i < v->size(); ++i) {
    const std::optional<int64_t> id = AsInt((*v)[i]);
    if (!id || *id < 0 || *id > INT32_MAX) return WrongType(fmt::format("stop_token_ids[{}]", i), "a token id", (*v)[i]);
    ids->push_back(static_cast<int32_t>(*id));
  }
  return Status::Ok();
}

}  // namespace

Status CheckModel(const Json& body, const ServingContext& context) {
  SIEVE_ASSIGN_OR_RETURN(const std::optional<std::string> model, StringField(body, "model"));
  if (model && *model != context.served_model_name && *model != context.model_dir)
    return Status::NotFound(fmt::format("The model `{}` does not exist; this server serves `{}`", *model,
                                        context.served_model_name))
        .WithParam("model");
  return Status::Ok();
}

Status ReadSamplingFields(const Json& body, engine::SamplingParams* p) {
  SIEVE_RETURN_IF_ERROR(Assign(IntField(body, "n"), &p->n));
  SIEVE_RETURN_IF_ERROR(Assign(NumberField(body, "temperature"), &p->temperature));
  SIEVE_RETURN_IF_ERROR(Assign(NumberField(body, "top_p"), &p->top_p));
  SIEVE_RETURN_IF_ERROR(Assign(IntField(body, "top_k"), &p->top_k));
  SIEVE_RETURN_IF_ERROR(Assign(NumberField(body, "min_p"), &p->min_p));
  SIEVE_RETURN_IF_ERROR(Assign(NumberField(body, "presence_penalty"), &p->presence_penalty));
  SIEVE_RETURN_IF_ERROR(Assign(NumberField(body, "frequency_penalty"), &p->frequency_penalty));
  SIEVE_RETURN_IF_ERROR(Assign(NumberField(body, "repetition_penalty"), &p->repetition_penalty));
  SIEVE_RETURN_IF_ERROR(Assign(IntField(body, "min_tokens"), &p->min_tokens));
  SIEVE_RETURN_IF_ERROR(Assign(BoolField(body, "ignore_eos"), &p->ignore_eos));
  SIEVE_RETURN_IF_ERROR(Assign(BoolField(body, "skip_special_tokens"), &p->skip_special_tokens));
  SIEVE_RETURN_IF_ERROR(Assign(BoolField(body, "include_stop_str_in_output"), &p->include_stop_str_in_output));
  SIEVE_ASSIGN_OR_RETURN(const std::optional<int64_t> seed, IntField(body, "seed"));
  if (seed) p->seed = static_cast<uint64_t>(*seed);
  SIEVE_RETURN_IF_ERROR(ReadStop(body, &p->stop));
  SIEVE_RETURN_IF_ERROR(ReadStopTokenIds(body, &p->stop_token_ids));
  return ReadLogitBias(body, &p->logit_bias);
}

StatusOr<int> ResolveMaxTokens(std::optional<int64_t> requested, const char* param, int64_t prompt_tokens,
                               std::optional<int64_t> default_max_tokens, const ServingContext& context) {
  const int64_t max_model_len = context.limits.max_model_len;
  const int64_t room = max_model_len - prompt_tokens;
  if (!requested) return static_cast<int>(std::max<int64_t>(1, default_max_tokens ? std::min(*default_max_tokens, room) : room));
  if (*requested < 1)
    return Status::InvalidArgument(fmt::format("'{}' must be at least 1, got {}", param, *requested)).WithParam(param);
  if (*requested > room)
    return Status::InvalidArgument(
               fmt::format("This model's maximum context length is {} tokens. However, you requested {} tokens ({} in "
                           "the prompt, {} for the completion). Please reduce the prompt or '{}'.",
                           max_model_len, prompt_tokens + *requested, prompt_tokens, *requested, param))
        .WithParam(param);
  return static_cast<int>(*requested);
}

}  // namespace sieve::server
