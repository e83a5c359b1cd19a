#include "server/sampling_fields.h"

#include <fmt/format.h>

#include <limits>

namespace sieve::server {

namespace {

Status ReadStop(const Json& body, std::vector<std::string>* stop) {
  const Json* v = FindField(body, "stop");
  if (v == nullptr) return Status::Ok();
  if (v->is_string()) {
    stop->push_back(v->get<std::string>());
    return Status::Ok();
  }
  if (!v->is_array()) return Status::InvalidArgument("'stop' must be a string or a list of strings").WithParam("stop");
  for (size_t i = 0; i < v->size(); ++i) {
    if (!(*v)[i].is_string())
      return Status::InvalidArgument("'stop' must be a string or a list of strings").WithParam(fmt::format("stop[{}]", i));
    stop->push_back((*v)[i].get<std::string>());
  }
  return Status::Ok();
}

Status ReadTokenIdList(const Json& body, const char* key, std::vector<int32_t>* out) {
  const Json* v = FindField(body, key);
  if (v == nullptr) return Status::Ok();
  if (!v->is_array()) return Status::InvalidArgument(fmt::format("'{}' must be a list of token ids", key)).WithParam(key);
  for (size_t i = 0; i < v->size(); ++i) {
    const Json& id = (*v)[i];
    if (!id.is_number_integer() || id.get<int64_t>() < 0 || id.get<int64_t>() > std::numeric_limits<int32_t>::max())
      return Status::InvalidArgument(fmt::format("'{}' must be a list of token ids", key))
          .WithParam(fmt::format("{}[{}]", key, i));
    out->push_back(id.get<int32_t>());
  }
  return Status::Ok();
}

// OpenAI's logit_bias: {"<token id>": bias}.
Status ReadLogitBias(const Json& body, std::map<int32_t, float>* bias) {
  const Json* v = FindField(body, "logit_bias");
  if (v == nullptr) return Status::Ok();
  if (!v->is_object())
    return Status::InvalidArgument("'logit_bias' must be an object of token id -> bias").WithParam("logit_bias");
  for (const auto& [key, value] : v->items()) {
    int64_t id = -1;
    try {
      size_t used = 0;
      id = std::stoll(key, &used);
      if (used != key.size()) id = -1;
    } catch (const std::exception&) {
      id = -1;
    }
    if (id < 0 || id > std::numeric_limits<int32_t>::max() || !value.is_number())
      return Status::InvalidArgument(fmt::format("logit_bias entry '{}' must map a token id to a number", key))
          .WithParam("logit_bias");
    (*bias)[static_cast<int32_t>(id)] = value.get<float>();
  }
  return Status::Ok();
}

template <typename T, typename U>
void Assign(const std::optional<U>& v, T* out) {
  if (v) *out = static_cast<T>(*v);
}

}  // namespace

Status ReadSamplingFields(const Json& body, engine::SamplingParams* p) {
  SIEVE_ASSIGN_OR_RETURN(const auto temperature, OptionalNumber(body, "temperature"));
  Assign(temperature, &p->temperature);
  SIEVE_ASSIGN_OR_RETURN(const auto top_p, OptionalNumber(body, "top_p"));
  Assign(top_p, &p->top_p);
  SIEVE_ASSIGN_OR_RETURN(const auto top_k, OptionalInt(body, "top_k"));
  if (top_k && (*top_k < -1 || *top_k > std::numeric_limits<int>::max()))
    return Status::InvalidArgument(fmt::format("top_k must be -1 (off), 0 (off) or positive, got {}", *top_k)).WithParam("top_k");
  Assign(top_k, &p->top_k);
  SIEVE_ASSIGN_OR_RETURN(const auto min_p, OptionalNumber(body, "min_p"));
  Assign(min_p, &p->min_p);
  SIEVE_ASSIGN_OR_RETURN(const auto presence, OptionalNumber(body, "presence_penalty"));
  Assign(presence, &p->presence_penalty);
  SIEVE_ASSIGN_OR_RETURN(const auto frequency, OptionalNumber(body, "frequency_penalty"));
  Assign(frequency, &p->frequency_penalty);
  SIEVE_ASSIGN_OR_RETURN(const auto repetition, OptionalNumber(body, "repetition_penalty"));
  Assign(repetition, &p->repetition_penalty);
  SIEVE_ASSIGN_OR_RETURN(const auto seed, OptionalInt(body, "seed"));
  if (seed) p->seed = static_cast<uint64_t>(*seed);
  SIEVE_ASSIGN_OR_RETURN(const auto ignore_eos, OptionalBool(body, "ignore_eos"));
  Assign(ignore_eos, &p->ignore_eos);
  SIEVE_ASSIGN_OR_RETURN(const auto min_tokens, OptionalInt(body, "min_tokens"));
  if (min_tokens && (*min_tokens < 0 || *min_tokens > std::numeric_limits<int>::max()))
    return Status::InvalidArgument(fmt::format("min_tokens must be >= 0, got {}", *min_tokens)).WithParam("min_tokens");
  Assign(min_tokens, &p->min_tokens);
  SIEVE_ASSIGN_OR_RETURN(const auto skip_special, OptionalBool(body, "skip_special_tokens"));
  Assign(skip_special, &p->skip_special_tokens);
  SIEVE_ASSIGN_OR_RETURN(const auto include_stop, OptionalBool(body, "include_stop_str_in_output"));
  Assign(include_stop, &p->include_stop_str_in_output);
  SIEVE_RETURN_IF_ERROR(ReadStop(body, &p->stop));
  SIEVE_RETURN_IF_ERROR(ReadTokenIdList(body, "stop_token_ids", &p->stop_token_ids));
  return ReadLogitBias(body, &p->logit_bias);
}

Status ReadChoiceCount(const Json& body, engine::SamplingParams* p) {
  SIEVE_ASSIGN_OR_RETURN(const auto n, OptionalInt(body, "n"));
  if (n && (*n < 1 || *n > 128)) return Status::InvalidArgument(fmt::format("n must be in [1, 128], got {}", *n)).WithParam("n");
  p->n = static_cast<int>(n.value_or(1));
  SIEVE_ASSIGN_OR_RETURN(const auto best_of, OptionalInt(body, "best_of"));
  if (best_of && *best_of != p->n)
    return Status::InvalidArgument(fmt::format("best_of is not supported (it must equal n = {}), got {}", p->n, *best_of))
        .WithParam("best_of");
  return Status::Ok();
}

StatusOr<int> ResolveMaxTokens(std::optional<int64_t> requested, const std::string& param, int64_t prompt_tokens,
                               int64_t max_model_len, const std::string& prompt_param) {
  if (prompt_tokens >= max_model_len)
    return Status::InvalidArgument(fmt::format(
               "This model's maximum context length is {} tokens. However, your prompt has {} tokens, which leaves no "
               "room for output. Please reduce the length of the input.",
               max_model_len, prompt_tokens))
        .WithParam(prompt_param);
  if (!requested) return static_cast<int>(max_model_len - prompt_tokens);
  if (*requested < 1)
    return Status::InvalidArgument(fmt::format("{} must be at least 1, got {}", param, *requested)).WithParam(param);
  if (prompt_tokens + *requested > max_model_len)
    return Status::InvalidArgument(
               fmt::format("This model's maximum context length is {} tokens. However, you requested {} tokens ({} in "
                           "the input, {} in the output). Please reduce the length of the input or the output.",
                           max_model_len, prompt_tokens + *requested, prompt_tokens, *requested))
        .WithParam(param);
  return static_cast<int>(*requested);
}

}  // namespace sieve::server
