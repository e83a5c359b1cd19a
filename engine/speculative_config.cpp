// Speculative decoding flags: vLLM's JSON or SGLang's four flags, resolved to K.
#include "engine/speculative_config.h"

#include <fmt/format.h>

#include <algorithm>

#include <nlohmann/json.hpp>

namespace sieve::engine {

namespace {

Status CheckRange(int k, const char* flag) {
  if (k < 1 || k > kMaxSpeculativeTokens)
    return Status::InvalidArgument(fmt::format("{} must be in [1, {}], got {}", flag, kMaxSpeculativeTokens, k));
  return Status::Ok();
}

StatusOr<int> FromVllmConfig(const std::string& text) {
  const nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return Status::InvalidArgument("--speculative-config must be a JSON object");
  for (const auto& [key, value] : j.items())
    if (key != "method" && key != "num_speculative_tokens")
      return Status::InvalidArgument(fmt::format(
          "--speculative-config: unsupported key '{}' (supported: method, num_speculative_tokens)", key));
  const auto method = j.find("method");
  if (method == j.end() || !method->is_string() || (*method != "deepseek_mtp" && *method != "mtp"))
    return Status::InvalidArgument(
        "--speculative-config: method must be \"deepseek_mtp\" (or \"mtp\"): the draft model is the checkpoint's MTP layer");
  const auto k = j.find("num_speculative_tokens");
  if (k == j.end() || !k->is_number_integer())
    return Status::InvalidArgument("--speculative-config: num_speculative_tokens (an integer) is required");
  const int64_t value = k->get<int64_t>();
  const int clamped = static_cast<int>(std::clamp<int64_t>(value, -1, kMaxSpeculativeTokens + 1));
  if (clamped != value)
    return Status::InvalidArgument(fmt::format("--speculative-config num_speculative_tokens must be in [1, {}], got {}",
                                               kMaxSpeculativeTokens, value));
  SIEVE_RETURN_IF_ERROR(CheckRange(clamped, "--speculative-config num_speculative_tokens"));
  return clamped;
}

StatusOr<int> FromSglangFlags(const EngineOptions& o) {
  if (o.speculative_algorithm != "EAGLE" && o.speculative_algorithm != "NEXTN")
    return Status::InvalidArgument(fmt::format(
        "--speculative-algorithm must be EAGLE (or NEXTN), got '{}'", o.speculative_algorithm));
  if (o.speculative_eagle_topk != 1)
    return Status::InvalidArgument(fmt::format(
        "--speculative-eagle-topk must be 1 (Sieve drafts a single chain, no tree), got {}", o.speculative_eagle_topk));
  SIEVE_RETURN_IF_ERROR(CheckRange(o.speculative_num_steps, "--speculative-num-steps"));
  const int k = o.speculative_num_steps;
  if (o.speculative_num_draft_tokens != 0 && o.speculative_num_draft_tokens != k + 1)
    return Status::InvalidArgument(fmt::format(
        "--speculative-num-draft-tokens must be --speculative-num-steps + 1 = {} with topk 1, got {}", k + 1,
        o.speculative_num_draft_tokens));
  return k;
}

}  // namespace

StatusOr<int> ResolveNumSpeculativeTokens(const EngineOptions& o) {
  const bool vllm = !o.speculative_config.empty();
  const bool sglang = !o.speculative_algorithm.empty();
  if (vllm && sglang)
    return Status::InvalidArgument("give either --speculative-config or --speculative-algorithm, not both");
  if (vllm) return FromVllmConfig(o.speculative_config);
  if (sglang) return FromSglangFlags(o);
  if (o.speculative_num_steps != 0 || o.speculative_num_draft_tokens != 0)
    return Status::InvalidArgument("--speculative-num-steps / --speculative-num-draft-tokens need --speculative-algorithm");
  return 0;
}

}  // namespace sieve::engine
