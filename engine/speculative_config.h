// Speculative decoding settings: how many draft tokens (K) the MTP layer proposes per step, resolved
// from either spelling of the flags and checked once, with the flag names in the errors.
//   vLLM:   --speculative-config '{"method":"deepseek_mtp","num_speculative_tokens":K}'
//           (vllm/config/speculative.py; "mtp" is vLLM's newer alias for the same method)
//   SGLang: --speculative-algorithm EAGLE --speculative-num-steps K --speculative-eagle-topk 1
//           --speculative-num-draft-tokens K+1 (sglang/srt/server_args.py; NEXTN is an alias of EAGLE)
// Only a single draft chain (topk 1) exists in Sieve: the draft tree of SGLang's topk > 1 is not built.
#pragma once

#include "core/status.h"
#include "engine/engine.h"

namespace sieve::engine {

inline constexpr int kMaxSpeculativeTokens = 16;

// K in [1, kMaxSpeculativeTokens], or 0 when no speculative flag is given. InvalidArgument for a bad
// combination (both spellings, an unknown method, topk != 1, draft tokens != K + 1, K out of range).
StatusOr<int> ResolveNumSpeculativeTokens(const EngineOptions& options);

}  // namespace sieve::engine
