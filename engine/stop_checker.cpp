// StopChecker: token-level stop rules and the held-back text search for stop strings.
#include "engine/stop_checker.h"

#include <algorithm>

namespace sieve::engine {

StopChecker::StopChecker(const SamplingParams& params, int32_t eos_token_id, int64_t max_model_len)
    : params_(params), eos_token_id_(eos_token_id), max_model_len_(max_model_len) {}

// vLLM's order (vllm/v1/core/sched/utils.py check_stop): EOS and stop token ids only once min_tokens are
// out, then the length limits.
std::optional<FinishReason> StopChecker::CheckToken(int32_t token, int64_t num_output_tokens,
                                                    int64_t num_tokens) const {
  if (num_output_tokens >= params_.min_tokens) {
    if (!params_.ignore_eos && token == eos_token_id_) return FinishReason{"stop", std::nullopt};
    if (std::find(params_.stop_token_ids.begin(), params_.stop_token_ids.end(), token) !=
        params_.stop_token_ids.end())
      return FinishReason{"stop", std::to_string(token)};
  }
  if (num_output_tokens >= params_.max_tokens || num_tokens >= max_model_len_)
    return FinishReason{"length", std::nullopt};
  return std::nullopt;
}

std::string StopChecker::AppendText(std::string_view text, int64_t num_output_tokens,
                                    std::optional<FinishReason>* finish) {
  pending_.append(text);
  if (params_.stop.empty() || num_output_tokens < params_.min_tokens) return Flush();

  // The earliest stop string wins; text before it is released, the rest is dropped.
  size_t best_pos = std::string::npos;
  const std::string* best = nullptr;
  for (const std::string& s : params_.stop) {
    const size_t pos = pending_.find(s);
    if (pos < best_pos) best_pos = pos, best = &s;
  }
  if (best) {
    std::string out = pending_.substr(0, best_pos + (params_.include_stop_str_in_output ? best->size() : 0));
    pending_.clear();
    *finish = FinishReason{"stop", *best};
    return out;
  }
  const size_t keep = PartialMatchLength();
  std::string out = pending_.substr(0, pending_.size() - keep);
  pending_.erase(0, pending_.size() - keep);
  return out;
}

std::string StopChecker::Flush() {
  std::string out;
  out.swap(pending_);
  return out;
}

size_t StopChecker::PartialMatchLength() const {
  size_t longest = 0;
  for (const std::string& s : params_.stop) {
    for (size_t k = std::min(s.size() - 1, pending_.size()); k > longest; --k) {
      if (std::string_view(pending_).substr(pending_.size() - k) == std::string_view(s).substr(0, k)) {
        longest = k;
        break;
      }
    }
  }
  return longest;
}

}  // namespace sieve::engine
